"""A decision record reads as labelled words, in the ICO form's order, never as raw JSON."""

from __future__ import annotations

from typing import Any

from app.record_words import record_lines
from domain.commands import DetermineLawfulBasis, RecordConsentNotSought, SelectInformation
from domain.events import DecisionRecorded
from domain.events.values import ProtectedPerson
from domain.handlers import (
    decide_consent_not_sought,
    decide_lawful_basis,
    decide_record_decision,
    decide_select_information,
)
from domain.models import (
    Art6Basis,
    InformPlan,
    LawfulBasis,
    NotInformedReason,
    NotSoughtReason,
    WithoutConsentGround,
)
from domain.vocabulary import AtRiskKind, ProtectedRelation, SubjectKind
from tests.domain.make import NOW, apply, assessed, item, sealed, share, worker


def sealed_out(value: Any) -> Any:
    """The record as history renders it unrevealed: every sealed value as [sealed]."""
    if isinstance(value, dict):
        return (
            "[sealed]" if value.get("sealed") == 1 else {k: sealed_out(v) for k, v in value.items()}
        )
    if isinstance(value, list):
        return [sealed_out(v) for v in value]
    return value


CHILD = ProtectedPerson(relation=ProtectedRelation.CHILD_OF_SUBJECT, kind=AtRiskKind.CHILD)


def test_a_record_reads_in_words_with_who_is_protected_and_the_review_date() -> None:
    s = assessed(subject_kind=SubjectKind.ADULT)
    not_sought = RecordConsentNotSought(
        reason=NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD,
        explanation=sealed(),
        at_risk=CHILD,
    )
    s = apply(s, decide_consent_not_sought(s, not_sought, worker(), NOW))
    basis = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK,
        without_consent=WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD,
        protects=CHILD,
        legal_power="Children Act 2004 s.11",
    )
    s = apply(s, decide_lawful_basis(s, DetermineLawfulBasis(basis=basis), worker(), NOW))
    s = apply(s, decide_select_information(s, SelectInformation(items=[item()]), worker(), NOW))
    plan = InformPlan(
        will_inform=False,
        reason_not=NotInformedReason.WOULD_PREJUDICE_INVESTIGATION,
        review_on=NOW.date().replace(year=NOW.year + 1),
    )
    decision = share(inform=plan, urgent_override=sealed(), position="Duty manager")
    (event, *_) = decide_record_decision(s, decision, worker(), NOW)
    assert isinstance(event, DecisionRecorded)
    lines = dict(record_lines(sealed_out(event.record.model_dump(mode="json"))))
    assert lines["Lawful basis (UK GDPR Article 6)"] == "public task"
    assert lines["Legal power behind the public task"] == "Children Act 2004 s.11"
    assert lines["Who sharing protects"] == "the child of subject (child at risk)"
    assert lines["Asking would have put at risk"] == "the child of subject (child)"
    assert lines["Consent"] == "not sought (risk of significant harm to child)"
    assert lines["Decided by"] == "u-worker (agency worker), Duty manager"
    assert lines["Person to be told"].startswith("no: would prejudice investigation; reviewed on")
    assert not any("{" in v or "_" in k for k, v in lines.items())


def test_a_records_times_read_on_the_hubs_clock_where_a_zone_is_given() -> None:
    record = {
        "outcome": "not_share",
        "received_at": "2026-07-01T13:05:00+00:00",
        "decided_at": "2026-12-05T09:30:00+00:00",
        "reasons": "2026-07-01T13:05:00 is not an instant (no offset): left as typed",
        "consent": {"recorded_at": "2026-07-01T12:00:00+00:00"},
    }
    local = dict(record_lines(record, {}, {}, "Europe/London"))
    assert local["Date received"] == "1 Jul 2026, 14:05 BST"
    assert local["Decided at"] == "5 Dec 2026, 09:30 GMT"
    assert local["Consent recorded at"] == "1 Jul 2026, 13:00 BST"
    assert local["Reasons"] == record["reasons"]
    utc = dict(record_lines(record, {}, {}))  # the printable export's
    assert utc["Date received"] == "1 Jul 2026, 13:05 UTC"
