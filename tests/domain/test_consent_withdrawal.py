"""Consent withdrawn after it was given: recorded with who, when and scope; before the
decision the basis is decided again (as after a refusal); after sending, the recipient is
to be told; the record keeps both the consent and its withdrawal."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.commands import (
    DetermineLawfulBasis,
    GiveAdvice,
    RecordPackageSent,
    RequestAdvice,
    WithdrawConsent,
)
from domain.errors import InconsistentDecision, InvalidState, NotPermitted, ValidationFailed
from domain.events import ConsentWithdrawn, DecisionRecorded, registry
from domain.handlers import (
    decide_give_advice,
    decide_lawful_basis,
    decide_package_sent,
    decide_record_decision,
    decide_request_advice,
)
from domain.models import (
    Art6Basis,
    ConsentOutcome,
    LawfulBasis,
    NotShareReason,
    WithoutConsentGround,
)
from domain.vocabulary import AdviceRecommendation, ConsentGiver
from domain.withdrawal import decide_consent_withdrawn
from tests.domain.make import NOW, advisor, apply, assessed, not_share, recipient, sealed, share
from tests.domain.make import worker as a_worker
from tests.domain.test_decision_flow import DIGEST, consented, ready_to_share

LATER = NOW + timedelta(hours=2)
WITHDRAW = WithdrawConsent(
    withdrawn_by=ConsentGiver.PARENT_OR_CARER, withdrawn_on=LATER.date(), scope=sealed()
)


def test_withdrawal_before_the_decision_stops_a_share_on_that_consent_and_asks_again() -> None:
    s = ready_to_share()
    (event,) = decide_consent_withdrawn(s, WITHDRAW, a_worker(), LATER)
    assert isinstance(event, ConsentWithdrawn) and event.package_sent is False
    assert event.withdrawal.withdrawn_by is ConsentGiver.PARENT_OR_CARER
    assert event.withdrawal.recorded_by == "u-worker" and event.withdrawal.recorded_at == LATER
    s = apply(s, [event])
    assert s.lawful_basis is None and s.consent is not None
    assert s.consent.outcome is ConsentOutcome.WITHDRAWN
    # The share that consent supported is refused until a basis without consent is found.
    with pytest.raises(InconsistentDecision) as refused:
        decide_record_decision(s, share(), a_worker(), LATER)
    assert "no_lawful_basis" in {p.code for p in refused.value.problems}
    # Respecting the withdrawal is a reason not to share, as a refusal is.
    respected = not_share(not_share_reasons=[NotShareReason.RESPECTING_REFUSAL])
    (recorded, *_) = decide_record_decision(s, respected, a_worker(), LATER)
    assert isinstance(recorded, DecisionRecorded)
    assert recorded.record.consent.outcome is ConsentOutcome.WITHDRAWN
    assert recorded.record.consent.withdrawal == event.withdrawal


def test_after_withdrawal_sharing_needs_a_ground_without_consent_and_an_advisor() -> None:
    s = apply(
        ready_to_share(), decide_consent_withdrawn(ready_to_share(), WITHDRAW, a_worker(), LATER)
    )
    basis = LawfulBasis(art6=Art6Basis.PUBLIC_TASK)
    with pytest.raises(InconsistentDecision):
        decide_lawful_basis(s, DetermineLawfulBasis(basis=basis), a_worker(), LATER)
    harm = LawfulBasis(
        art6=Art6Basis.PUBLIC_TASK, without_consent=WithoutConsentGround.SIGNIFICANT_HARM_TO_CHILD
    )
    s = apply(s, decide_lawful_basis(s, DetermineLawfulBasis(basis=harm), a_worker(), LATER))
    with pytest.raises(InconsistentDecision) as refused:
        decide_record_decision(s, share(), a_worker(), LATER)
    assert "advisor_agreement_missing" in {p.code for p in refused.value.problems}
    s = apply(s, decide_request_advice(s, RequestAdvice(question=sealed()), a_worker(), LATER))
    agree = GiveAdvice(
        recommendation=AdviceRecommendation.SHARE,
        agrees_to_share_without_consent=True,
        advice=sealed(),
    )
    s = apply(s, decide_give_advice(s, agree, advisor(), LATER))
    (recorded, *_) = decide_record_decision(s, share(), a_worker(), LATER)
    assert isinstance(recorded, DecisionRecorded)
    assert recorded.record.consent.outcome is ConsentOutcome.WITHDRAWN


def test_withdrawal_after_sending_marks_that_the_recipient_is_to_be_told() -> None:
    s = ready_to_share()
    s = apply(s, decide_record_decision(s, share(), a_worker(), NOW))
    sent = RecordPackageSent(package_id=uuid4(), sha256=DIGEST)
    s = apply(s, decide_package_sent(s, sent, NOW))
    (event,) = decide_consent_withdrawn(s, WITHDRAW, a_worker(), LATER)
    assert isinstance(event, ConsentWithdrawn) and event.package_sent is True
    s = apply(s, [event])
    # The record made at the time stays as it was; the state shows the withdrawal.
    assert s.decision is not None and s.decision.consent.outcome is ConsentOutcome.GIVEN
    assert s.consent is not None and s.consent.withdrawal == event.withdrawal
    assert (
        registry.decode(event.event_type, event.schema_version, event.model_dump(mode="json"))
        == event
    )


def test_only_given_consent_is_withdrawn_once_by_the_agencys_worker_on_a_real_day() -> None:
    with pytest.raises(InvalidState, match="not given"):
        decide_consent_withdrawn(assessed(), WITHDRAW, a_worker(), LATER)
    s = consented()
    with pytest.raises(NotPermitted):
        decide_consent_withdrawn(s, WITHDRAW, recipient(), LATER)
    with pytest.raises(NotPermitted):
        decide_consent_withdrawn(s, WITHDRAW, a_worker("police"), LATER)
    ahead = WITHDRAW.model_copy(update={"withdrawn_on": LATER.date() + timedelta(days=1)})
    with pytest.raises(ValidationFailed, match="withdrawn_on"):
        decide_consent_withdrawn(s, ahead, a_worker(), LATER)
    before = WITHDRAW.model_copy(update={"withdrawn_on": NOW.date() - timedelta(days=1)})
    with pytest.raises(ValidationFailed, match="withdrawn_on"):
        decide_consent_withdrawn(s, before, a_worker(), LATER)
    s = apply(s, decide_consent_withdrawn(s, WITHDRAW, a_worker(), LATER))
    with pytest.raises(InvalidState, match="already"):
        decide_consent_withdrawn(s, WITHDRAW, a_worker(), LATER)
