"""Who may do what, for which agency: the one matrix every floor consults.

Each :class:`Action` maps the roles that may take it to their :class:`Reach`:
``HUB`` (whatever the agency: the hub's own coordinators and compliance
officers) or ``OWN`` (only for the actor's own agency: an agency's workers,
advisors and recipients). The domain's handlers call :func:`require` before
anything is decided; the API's dependencies, the page guards and the CLI ask
:func:`roles_for` and :func:`require` the same question, so a refusal reads the
same everywhere and a new role or action is added in this one table.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Protocol

from domain.errors import NotPermitted
from domain.vocabulary import Role


class Action(StrEnum):
    OPEN_REQUEST = "open_request"
    SHARE_PROACTIVELY = "share_proactively"
    """Share unsolicited with another agency (no hub request): the worker's own agency then
    walks the same decision steps, and the other agency receives as it would a request's."""
    CHANGE_RATING = "change_rating"
    WITHDRAW_REQUEST = "withdraw_request"
    FOLLOW_REQUESTS = "follow_requests"
    """The request list, each request's progress and the agencies' response times."""
    DECIDE = "decide"
    """The worker's steps of an agency's decision: purpose, consent, basis, items, decision."""
    ADVISE = "advise"
    """An advisor's answer to a request for advice, and approval to share without consent."""
    WORK_TASKS = "work_tasks"
    """An agency's task inbox: read what a task asks, in clear (the view is recorded),
    and complete it (the step itself is ``DECIDE`` or ``ADVISE``)."""
    SEE_SENT_PACKAGES = "see_sent_packages"
    REVOKE_PACKAGE = "revoke_package"
    RECEIVE_PACKAGE = "receive_package"
    """Open a delivered package and acknowledge its receipt."""
    REPLAY_HISTORY = "replay_history"
    """A request's event history, its export, and revealing the personal data in it."""
    VERIFY_STORE = "verify_store"
    REVIEW_RETENTION = "review_retention"
    SEE_DASHBOARD = "see_dashboard"
    MANAGE_REGISTER = "manage_register"
    """Register agencies and the information sharing protocols between them."""


class Reach(StrEnum):
    HUB = "hub"
    """For any agency of the hub."""
    OWN = "own"
    """Only for the actor's own agency."""


_HUB, _OWN = Reach.HUB, Reach.OWN
_WORKER, _ADVISOR, _RECIPIENT = Role.AGENCY_WORKER, Role.ADVISOR, Role.RECIPIENT
_COORDINATOR, _COMPLIANCE = Role.COORDINATOR, Role.COMPLIANCE_OFFICER

MATRIX: Mapping[Action, Mapping[Role, Reach]] = {
    Action.OPEN_REQUEST: {_COORDINATOR: _HUB},
    Action.SHARE_PROACTIVELY: {_WORKER: _OWN},
    Action.CHANGE_RATING: {_COORDINATOR: _HUB},
    Action.WITHDRAW_REQUEST: {_COORDINATOR: _HUB},
    Action.FOLLOW_REQUESTS: {_COORDINATOR: _HUB, _COMPLIANCE: _HUB},
    Action.DECIDE: {_WORKER: _OWN},
    Action.ADVISE: {_ADVISOR: _OWN},
    Action.WORK_TASKS: {_WORKER: _OWN, _ADVISOR: _OWN},
    Action.SEE_SENT_PACKAGES: {_WORKER: _OWN, _ADVISOR: _OWN},
    Action.REVOKE_PACKAGE: {_WORKER: _OWN, _ADVISOR: _OWN},
    Action.RECEIVE_PACKAGE: {_RECIPIENT: _OWN},
    Action.REPLAY_HISTORY: {_COMPLIANCE: _HUB},
    Action.VERIFY_STORE: {_COMPLIANCE: _HUB},
    Action.REVIEW_RETENTION: {_COMPLIANCE: _HUB},
    Action.SEE_DASHBOARD: {_COORDINATOR: _HUB, _ADVISOR: _OWN, _COMPLIANCE: _HUB},
    Action.MANAGE_REGISTER: {_COORDINATOR: _HUB},
}
"""Every action and who may take it; an action or role absent here is refused."""

HUB_ROLES: frozenset[Role] = frozenset(
    role
    for role in Role
    if any(role in reaches for reaches in MATRIX.values())
    and all(reaches.get(role, Reach.HUB) is Reach.HUB for reaches in MATRIX.values())
)
"""The hub's own roles: whatever they may do, they may do for any agency, so a person
holding one belongs to no agency (coordinators and compliance officers)."""

ROLE_NAMES: Mapping[Role, str] = {
    Role.COORDINATOR: "hub coordinator",
    Role.AGENCY_WORKER: "agency worker",
    Role.ADVISOR: "advisor",
    Role.RECIPIENT: "recipient",
    Role.COMPLIANCE_OFFICER: "compliance officer",
    Role.SYSTEM: "the system",
}


class Acting(Protocol):
    """Anyone who acts: a domain ``Actor`` or a signed-in principal."""

    @property
    def role(self) -> Role: ...

    @property
    def agency(self) -> str | None: ...


def roles_for(action: Action) -> frozenset[Role]:
    return frozenset(MATRIX[action])


def allows(who: Acting, action: Action, agency: str | None = None) -> bool:
    """May ``who`` take ``action`` (for ``agency``, where the action concerns one)?"""
    reach = MATRIX[action].get(who.role)
    if reach is None:
        return False
    if reach is Reach.HUB:
        return True
    return who.agency is not None and (agency is None or who.agency == agency)


def refusal(who: Acting, action: Action, agency: str | None = None, doing: str = "") -> str:
    """Why ``who`` may not: the roles that may, and the agency where it is theirs only."""
    doing = doing or str(action).replace("_", " ")
    names = " or ".join(sorted(ROLE_NAMES[r] for r in MATRIX[action]))
    if who.role in MATRIX[action]:
        return f"only {agency or 'its own agency'}'s own people may {doing}"
    of = f" of {agency}" if agency and Reach.OWN in MATRIX[action].values() else ""
    return f"only a {names}{of} may {doing}; you are acting as {ROLE_NAMES[who.role]}"


def require(who: Acting, action: Action, agency: str | None = None, doing: str = "") -> None:
    """Raise :class:`NotPermitted` unless ``who`` may take ``action`` for ``agency``."""
    if not allows(who, action, agency):
        raise NotPermitted(refusal(who, action, agency, doing))
