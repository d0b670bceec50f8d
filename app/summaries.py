"""How each event reads in a timeline: one plain sentence, built from enums, ids and
dates only (sealed values are never opened here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from domain import events as ev
from domain.events.access import AccessRefused, PersonalDataViewed
from domain.events.values import LawfulBasis


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _d(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _list(values: Sequence[object]) -> str:
    return ", ".join(str(v) for v in values) or "none"


def _protection(basis: LawfulBasis) -> str:
    """Who a basis protects and, for para 18, why consent is not had, in words."""
    words = ""
    if basis.protects is not None:
        words += f", protecting the {basis.protects.relation} ({basis.protects.kind} at risk)"
    if basis.para18_reason is not None:
        words += f", DPA 2018 Sch. 1 para 18: consent {basis.para18_reason}"
    if basis.offence_condition is not None:
        words += f", criminal offence data: {basis.offence_condition}"
    if basis.life_or_death:
        words += ", a life at stake"
    return words.replace("_", " ")


def _decision(e: ev.DecisionRecorded) -> str:
    r = e.record
    if r.outcome.value == "share":
        basis = r.lawful_basis
        on = f" on {basis.art6}" if basis else ""
        if basis and basis.without_consent:
            on += f" ({basis.without_consent} without consent)"
        if basis:
            on += _protection(basis)
        return (
            f"{e.agency}: decided to share {len(r.items)} item(s) with {r.shared_with}{on}; "
            f"consent {r.consent.outcome}; decided by {r.decided_by} ({r.decided_by_role})"
        )
    return (
        f"{e.agency}: decided not to share ({_list([x.value for x in r.not_share_reasons])}); "
        f"decided by {r.decided_by} ({r.decided_by_role})"
    )


def _closed(e: ev.RequestClosed) -> str:
    outcomes = [
        *([f"shared by {_list(e.shared_by)}"] if e.shared_by else []),
        *([f"not shared by {_list(e.not_shared_by)}"] if e.not_shared_by else []),
    ]
    return (
        f"Request closed{' (withdrawn)' if e.withdrawn else ''}: "
        f"{'; '.join(outcomes) or 'nothing shared'}"
    )


_SUMMARIES: dict[type[ev.Event], Callable[[Any], str]] = {
    ev.RequestOpened: lambda e: (
        (
            f"Proactive share opened by {_list(e.holding_agencies)} for {e.requesting_agency} "
            f"(not asked for) about a {e.subject_kind}; "
            if e.proactive
            else f"Request opened for {e.requesting_agency} about a {e.subject_kind}, asking "
            f"{_list(e.holding_agencies)}; "
        )
        + f"purpose {e.purpose_category}, rated {e.rating}, "
        f"decision due {_d(e.decision_due_at)}"
        + (f"; hub policy {e.policy_digest[:12]} in force" if e.policy_digest else "")
        + ("; about an allegation against staff" if e.allegation_against_staff else "")
    ),
    ev.RatingChanged: lambda e: (
        f"Rating changed from {e.previous} to {e.rating}; decision now due {_d(e.decision_due_at)}"
    ),
    ev.RequestWithdrawn: lambda e: f"Request withdrawn by {e.withdrawn_by}",
    ev.RequestClosed: _closed,
    ev.DeadlineMissed: lambda e: f"{e.agency}: {e.kind} deadline missed (due {_d(e.due_at)})",
    ev.Escalated: lambda e: (
        f"{e.agency}: {e.kind} deadline {e.level}, notifying {_list([r.value for r in e.notify])}"
    ),
    ev.PurposeAssessed: lambda e: (
        f"{e.agency}: purpose assessed: legitimate {_yes(e.legitimate)}, identifiable "
        f"{_yes(e.identifiable)}, confidential {_yes(e.confidential)}, special category "
        f"{_yes(e.special_category)}, criminal offence data {_yes(e.criminal_offence_data)}"
        + (
            f"; {e.compelled_by.kind} applies ({e.compelled_by.citation}): consent not needed"
            if e.compelled_by
            else ""
        )
    ),
    ev.ConsentSought: lambda e: f"{e.agency}: consent sought, answer due {_d(e.respond_by)}",
    ev.ConsentRecorded: lambda e: (
        f"{e.agency}: consent {e.consent.outcome}"
        + (f", by {e.consent.given_by}" if e.consent.given_by else "")
        + (
            f", capacity or competence considered {_yes(e.consent.capacity_considered)}"
            if e.consent.capacity_considered is not None
            else ""
        )
    ),
    ev.ConsentWithdrawn: lambda e: (
        f"{e.agency}: consent withdrawn by {e.withdrawal.withdrawn_by} on "
        f"{e.withdrawal.withdrawn_on.isoformat()}"
        + ("; the package had been sent: the recipient is told" if e.package_sent else "")
    ),
    ev.ConsentNotSought: lambda e: (
        f"{e.agency}: consent not sought ({e.reason}"
        + (f", at risk: the {e.at_risk.relation} ({e.at_risk.kind})" if e.at_risk else "")
        + ")"
    ),
    ev.AdviceRequested: lambda e: (
        f"{e.agency}: advice requested{' (person named)' if e.subject_named else ''}, "
        f"due {_d(e.respond_by)}"
    ),
    ev.AdviceGiven: lambda e: (
        f"{e.agency}: advice given by {e.advice.advisor_id}"
        + (f" as {e.advice.capacity}" if e.advice.capacity else "")
        + f": {e.advice.recommendation}; "
        f"agrees to share without consent {_yes(e.advice.agrees_to_share_without_consent)}"
    ),
    ev.LawfulBasisDetermined: lambda e: (
        f"{e.agency}: lawful basis {e.basis.art6}"
        + (f", {e.basis.art9}" if e.basis.art9 else "")
        + (f", without consent: {e.basis.without_consent}" if e.basis.without_consent else "")
        + _protection(e.basis)
    ),
    ev.InformationSelected: lambda e: (
        f"{e.agency}: {len(e.items)} item(s) selected"
        + (
            f", {sum(i.protect_identity for i in e.items)} naming someone not to be identified"
            if any(i.protect_identity for i in e.items)
            else ""
        )
    ),
    ev.DecisionRecorded: _decision,
    ev.PackageSent: lambda e: (
        f"{e.agency}: package of {e.item_count} item(s) sent to {e.recipient_agency}"
    ),
    ev.PackageOpened: lambda e: f"{e.agency}: package opened by {e.opened_by}",
    ev.ReceiptAcknowledged: lambda e: f"{e.agency}: receipt acknowledged by {e.acknowledged_by}",
    ev.PackageRevoked: lambda e: (
        f"{e.agency}: package revoked by {e.revoked_by} ({e.revoked_by_role})"
    ),
    ev.PersonInformed: lambda e: f"{e.agency}: person informed",
    ev.PersonNotInformed: lambda e: (
        f"{e.agency}: person not informed ({e.reason})"
        + (f"; to be looked at again on {e.review_on.isoformat()}" if e.review_on else "")
    ),
    ev.AgencyDecisionCompleted: lambda e: (
        f"{e.agency}: decision complete ({e.outcome}, {'on time' if e.on_time else 'late'})"
        + (
            f"; the requester is told why: {_list([r.value for r in e.not_share_reasons])}"
            if e.not_share_reasons
            else ""
        )
    ),
    ev.RetentionReviewOpened: lambda e: (
        f"Retention review opened for the {e.record_type} record, due {e.due_on.isoformat()}"
    ),
    ev.RecordRetained: lambda e: (
        f"{e.record_type} record retained by {e.reviewed_by}; next review "
        f"{e.next_review_on.isoformat()}"
    ),
    ev.RecordDisposed: lambda e: (
        f"{e.record_type} record disposed of by {e.disposed_by} ({e.reason})"
    ),
    ev.SubjectErased: lambda e: f"Subject's personal data erased ({e.reason})",
    AccessRefused: lambda e: (
        f"Access refused ({e.what}) to {e.viewer_id} ({e.viewer_role}"
        + (f", {e.viewer_agency}" if e.viewer_agency else "")
        + ")"
    ),
    PersonalDataViewed: lambda e: (
        f"Personal data viewed ({e.what}) by {e.viewer_id} ({e.viewer_role}"
        + (f", {e.viewer_agency}" if e.viewer_agency else "")
        + ")"
    ),
}


def summarise(event: ev.Event) -> str:
    """One line in plain words, from enums, ids and dates only (never a sealed value)."""
    render = _SUMMARIES.get(type(event))
    return render(event) if render is not None else type(event).event_type.replace("_", " ")
