"""Command handling after a decision to share: the package sent, opened, acknowledged,
revoked, and the person informed.

Pure like :mod:`domain.handlers` (which re-exports these): ``(state, command,
actor, now) -> list[Event]``, a refusal raised before anything is written.
"""

from __future__ import annotations

from datetime import datetime

from domain.commands import (
    AcknowledgeReceipt,
    OpenPackage,
    RecordInforming,
    RecordPackageSent,
    RevokePackage,
)
from domain.decision import AgencyDecisionState, PackageState
from domain.errors import InvalidState, ValidationFailed
from domain.events.base import Event
from domain.events.catalogue import (
    PackageOpened,
    PackageRevoked,
    PackageSent,
    PersonInformed,
    PersonNotInformed,
    ReceiptAcknowledged,
)
from domain.guards import ensure_actor, ensure_same_subject, with_completion
from domain.models import Actor
from domain.permissions import Action, require
from domain.policy import DEFAULT_POLICY, HubPolicy, deadline
from domain.rules import check_review_date
from domain.vocabulary import DeadlineKind

# --- step 9: informing the person ----------------------------------------------------


def decide_inform(
    state: AgencyDecisionState, command: RecordInforming, actor: Actor, now: datetime
) -> list[Event]:
    """Step 9 and golden rule 2: tell the person what was shared, unless that is unsafe.
    A person not told at first may be told later, once it is safe; a decision not to tell
    them for a temporary reason carries a review date, and at the review it is either
    told, or not told again (with a new date, or none where the reason will not pass)."""
    if state.withdrawn_at is not None:
        raise InvalidState("the request has been withdrawn")
    ensure_actor(actor, Action.DECIDE, state.agency, "record informing the person")
    if not state.shared:
        raise InvalidState("informing follows a decision to share")
    if state.informed is True:
        raise InvalidState("the person has already been informed")
    if state.informed is False and not command.informed and state.inform_review_on is None:
        raise InvalidState("not informing has already been recorded, with no review date")
    check_review_date(command.review_on, now)
    ensure_same_subject(state, command)
    event: Event
    if command.informed:
        event = PersonInformed(
            request_id=state.request_id,
            agency=state.agency,
            note=command.note,
            informed_by=actor.user_id,
            informed_at=now,
        )
    else:
        assert command.reason_not is not None  # the command's validator guarantees it
        event = PersonNotInformed(
            request_id=state.request_id,
            agency=state.agency,
            reason=command.reason_not,
            review_on=command.review_on,
            note=command.note,
            recorded_by=actor.user_id,
            recorded_at=now,
        )
    return with_completion(state, [event], now)


# --- secure transfer ------------------------------------------------------------------


def decide_package_sent(
    state: AgencyDecisionState,
    command: RecordPackageSent,
    now: datetime,
    policy: HubPolicy = DEFAULT_POLICY,
) -> list[Event]:
    """The engine records the sealed package it delivered to the requesting agency."""
    if not state.shared or state.decision is None:
        raise InvalidState("only a decision to share sends a package")
    if state.package is not None:
        raise InvalidState("the package has already been sent")
    if state.withdrawn_at is not None:
        raise InvalidState("the request has been withdrawn")
    return [
        PackageSent(
            request_id=state.request_id,
            agency=state.agency,
            package_id=command.package_id,
            recipient_agency=state.requesting_agency,
            sha256=command.sha256,
            item_count=len(state.decision.items),
            sent_at=now,
            acknowledge_by=deadline(now, state.rating, policy, DeadlineKind.ACKNOWLEDGEMENT),
        )
    ]


def _package(state: AgencyDecisionState, package_id: object) -> PackageState:
    package = state.package
    if package is None or package.package_id != package_id:
        raise InvalidState("no such package was sent in this decision")
    return package


def decide_open_package(
    state: AgencyDecisionState, command: OpenPackage, actor: Actor, now: datetime
) -> list[Event]:
    """Viewing personal data is itself recorded, every time."""
    package = _package(state, command.package_id)
    ensure_actor(actor, Action.RECEIVE_PACKAGE, package.recipient_agency, "open this package")
    if package.revoked_at is not None:
        raise InvalidState("the sending agency has revoked access to this package")
    return [
        PackageOpened(
            request_id=state.request_id,
            agency=state.agency,
            package_id=package.package_id,
            opened_by=actor.user_id,
            opened_at=now,
        )
    ]


def decide_acknowledge(
    state: AgencyDecisionState, command: AcknowledgeReceipt, actor: Actor, now: datetime
) -> list[Event]:
    package = _package(state, command.package_id)
    ensure_actor(actor, Action.RECEIVE_PACKAGE, package.recipient_agency, "acknowledge receipt")
    if package.revoked_at is not None:
        raise InvalidState("the sending agency has revoked access to this package")
    if package.acknowledged_at is not None:
        raise InvalidState("receipt has already been acknowledged")
    if package.times_opened == 0:
        raise InvalidState("open the package before acknowledging it")
    if command.sha256 != package.sha256:
        raise ValidationFailed(
            "sha256",
            "does not match what was sent: do not rely on this copy, contact the sending agency",
        )
    event = ReceiptAcknowledged(
        request_id=state.request_id,
        agency=state.agency,
        package_id=package.package_id,
        sha256=command.sha256,
        acknowledged_by=actor.user_id,
        acknowledged_at=now,
    )
    return with_completion(state, [event], now)


def decide_revoke(
    state: AgencyDecisionState, command: RevokePackage, actor: Actor, now: datetime
) -> list[Event]:
    """The sender may withdraw access after sending, even once the request is withdrawn,
    as long as nobody at the recipient agency has opened it: what has been read cannot be
    recalled, only followed up with the recipient."""
    package = _package(state, command.package_id)
    require(actor, Action.REVOKE_PACKAGE, state.agency, "revoke its package")
    if package.revoked_at is not None:
        raise InvalidState("the package has already been revoked")
    if package.times_opened > 0:
        raise InvalidState(
            "the package has already been opened by the recipient agency and cannot be recalled"
        )
    ensure_same_subject(state, command)
    event = PackageRevoked(
        request_id=state.request_id,
        agency=state.agency,
        package_id=package.package_id,
        reason=command.reason,
        revoked_by=actor.user_id,
        revoked_by_role=actor.role,
        revoked_at=now,
    )
    return with_completion(state, [event], now) if state.withdrawn_at is None else [event]
