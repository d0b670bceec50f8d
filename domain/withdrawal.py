"""Consent withdrawn after it was given: what is recorded and what follows.

UK GDPR Article 7(3): a person may withdraw consent at any time; withdrawal does
not make what was done before it unlawful. What mashflow does, and why a data
protection officer can defend it:

- The withdrawal is recorded against the decision (who withdrew it: the person, a
  parent or carer, someone with parental responsibility; the day they did; what it
  covers) and the record shows it, with the consent it ends. Nothing is erased:
  the record of what was done on the consent stays true.
- Before the decision, nothing has been shared, so nothing is shared on that
  consent: the consent on record becomes "withdrawn" and the lawful basis chosen
  on it is cleared. The worker decides again: respect the withdrawal (not share,
  "respecting refusal"), or share only on a lawful basis without consent (a harm
  ground, para 18, a duty) with an advisor's agreement, exactly as after a refusal.
  Silently carrying on would process on a consent that no longer exists; stopping
  the request outright could leave a child unprotected where the law allows sharing
  without consent. Asking again is the course both sides of that can defend.
- After the package was sent, it is not recalled automatically: the recipient
  received it lawfully and may need it to protect someone, and may hold it on its
  own basis. The recipient agency is told at once (a notification) that consent
  was withdrawn, so it stops any further use that relied on that consent and
  reviews what it holds; the sending agency can still revoke a package not yet
  opened. A withdrawal cannot undo what the recipient has already read.
- Only consent that was given can be withdrawn, once; the day of withdrawal is not
  in the future and not before the consent was recorded.
"""

from __future__ import annotations

from datetime import datetime

from domain.commands import WithdrawConsent
from domain.decision import AgencyDecisionState
from domain.errors import InvalidState, ValidationFailed
from domain.events.base import Event
from domain.events.catalogue import ConsentWithdrawn
from domain.events.values import ConsentWithdrawal
from domain.guards import ensure_actor, ensure_same_subject
from domain.models import Actor
from domain.permissions import Action
from domain.vocabulary import ConsentOutcome


def decide_consent_withdrawn(
    state: AgencyDecisionState, command: WithdrawConsent, actor: Actor, now: datetime
) -> list[Event]:
    """Record that consent given for this decision was withdrawn (see the module's
    docstring for what follows). A worker of the deciding agency records it, whether the
    decision is still open or complete; not after the request was withdrawn undecided."""
    ensure_actor(actor, Action.DECIDE, state.agency, "record that consent was withdrawn")
    ensure_same_subject(state, command)
    consent = state.consent
    if consent is not None and consent.outcome is ConsentOutcome.WITHDRAWN:
        raise InvalidState("consent has already been recorded as withdrawn")
    if consent is None or consent.outcome is not ConsentOutcome.GIVEN:
        raise InvalidState("consent was not given for this decision, so it cannot be withdrawn")
    if state.withdrawn_at is not None and state.decision is None:
        raise InvalidState("the request was withdrawn before a decision: nothing to stop")
    if command.withdrawn_on > now.date():
        raise ValidationFailed("withdrawn_on", "the day consent was withdrawn cannot be ahead")
    if command.withdrawn_on < consent.recorded_at.date():
        raise ValidationFailed("withdrawn_on", "consent cannot be withdrawn before it was given")
    withdrawal = ConsentWithdrawal(
        withdrawn_by=command.withdrawn_by,
        withdrawn_on=command.withdrawn_on,
        scope=command.scope,
        recorded_by=actor.user_id,
        recorded_at=now,
    )
    return [
        ConsentWithdrawn(
            request_id=state.request_id,
            agency=state.agency,
            withdrawal=withdrawal,
            note=command.note,
            package_sent=state.package is not None,
        )
    ]
