"""Properties that must hold for every input, not only the examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import WorkingCalendar
from domain.commands import RecordDecision
from domain.decision import AgencyDecisionState, fold
from domain.events.values import ConsentWithdrawal
from domain.models import (
    AgencyKind,
    Art6Basis,
    Art9Condition,
    ConsentOutcome,
    ConsentRecord,
    CouldNotObtainReason,
    InformPlan,
    LawfulBasis,
    NotShareReason,
    NotSoughtReason,
    Outcome,
    PurposeCategory,
    Rating,
    SubjectKind,
    WithoutConsentGround,
)
from domain.policy import HubPolicy, RatingWindows, deadline
from domain.rules import DecisionFacts, decision_problems, is_legitimate_purpose
from domain.vocabulary import ConsentGiver
from tests.domain.make import NOW, item, sealed

instants = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@st.composite
def consent_records(draw: st.DrawFn) -> ConsentRecord | None:
    outcome = draw(st.none() | st.sampled_from(ConsentOutcome))
    if outcome is None:
        return None
    cno = draw(st.sampled_from(CouldNotObtainReason))
    ns = draw(st.sampled_from(NotSoughtReason))
    return ConsentRecord(
        outcome=outcome,
        could_not_obtain_reason=cno if outcome is ConsentOutcome.COULD_NOT_BE_OBTAINED else None,
        not_sought_reason=ns if outcome is ConsentOutcome.NOT_SOUGHT else None,
        recorded_at=NOW,
        withdrawal=WITHDRAWAL if outcome is ConsentOutcome.WITHDRAWN else None,
    )


WITHDRAWAL = ConsentWithdrawal(
    withdrawn_by=ConsentGiver.THE_PERSON,
    withdrawn_on=NOW.date(),
    recorded_by="u-worker",
    recorded_at=NOW,
)


bases = st.none() | st.builds(
    LawfulBasis,
    art6=st.sampled_from(Art6Basis),
    art9=st.none() | st.sampled_from(Art9Condition),
    without_consent=st.none() | st.sampled_from(WithoutConsentGround),
    rationale=st.none() | st.just(sealed()),
)

facts = st.builds(
    DecisionFacts,
    subject_kind=st.sampled_from(SubjectKind),
    rating=st.sampled_from(Rating),
    purpose_category=st.sampled_from(PurposeCategory),
    holder_kind=st.sampled_from(AgencyKind),
    purpose_clear=st.booleans(),
    identifiable=st.booleans(),
    confidential=st.booleans(),
    special_category=st.booleans(),
    adult_at_risk=st.booleans(),
    consent=consent_records(),
    lawful_basis=bases,
    items=st.lists(st.just(item()), max_size=1),
    isp_exists=st.booleans(),
)

decisions = st.builds(
    RecordDecision,
    outcome=st.sampled_from(Outcome),
    reasons=st.just(sealed()),
    not_share_reasons=st.lists(st.sampled_from(NotShareReason), max_size=2),
    necessity=st.none() | st.just(sealed()),
    inform=st.none() | st.just(InformPlan(will_inform=True)),
    urgent_override=st.none() | st.just(sealed()),
)


@given(facts, decisions)
def test_no_input_shares_identifiable_information_without_a_lawful_basis(
    f: DecisionFacts, d: RecordDecision
) -> None:
    accepted = d.outcome is Outcome.SHARE and not decision_problems(f, d)
    if accepted and f.identifiable:
        assert f.lawful_basis is not None
        if f.special_category:
            assert f.lawful_basis.art9 is not None


@given(facts, decisions)
def test_no_input_shares_without_a_legitimate_purpose(f: DecisionFacts, d: RecordDecision) -> None:
    if d.outcome is Outcome.SHARE and not decision_problems(f, d):
        assert is_legitimate_purpose(f.purpose_category, f.purpose_clear)


@given(facts, decisions)
def test_the_isp_register_never_changes_a_verdict(f: DecisionFacts, d: RecordDecision) -> None:
    flipped = f.model_copy(update={"isp_exists": not f.isp_exists})
    assert decision_problems(f, d) == decision_problems(flipped, d)


@given(facts, decisions)
def test_no_accepted_not_share_lacks_reasons(f: DecisionFacts, d: RecordDecision) -> None:
    if d.outcome is Outcome.NOT_SHARE and not decision_problems(f, d):
        assert d.not_share_reasons


policies = st.builds(
    lambda a, b, c, wh: HubPolicy(
        decision=RatingWindows(
            red=timedelta(minutes=a),
            amber=timedelta(minutes=a + b),
            green=timedelta(minutes=a + b + c),
        ),
        working_hours_ratings=wh,
    ),
    st.integers(1, 6000),
    st.integers(0, 6000),
    st.integers(0, 6000),
    st.sampled_from([[], [Rating.GREEN], [Rating.AMBER, Rating.GREEN], list(Rating)]),
)


@settings(max_examples=200)
@given(instants, policies)
def test_red_is_never_later_than_amber_nor_amber_than_green(
    opened: datetime, policy: HubPolicy
) -> None:
    red, amber, green = (deadline(opened, r, policy) for r in Rating)
    assert red <= amber <= green


@settings(max_examples=300)
@given(instants, st.integers(0, 60 * 24 * 20))
def test_working_hours_deadlines_never_land_outside_working_hours(
    opened: datetime, minutes: int
) -> None:
    cal = WorkingCalendar()
    due = cal.add(opened, timedelta(minutes=minutes))
    assert cal.is_working_instant(due)
    assert due >= opened
    assert cal.working_time_between(opened, due) == timedelta(minutes=minutes)


@given(st.lists(st.sampled_from(["assess", "advice"]), max_size=3))
def test_evolve_is_deterministic(steps: list[str]) -> None:
    from domain.commands import AssessPurpose, RequestAdvice
    from domain.events import Event
    from domain.handlers import decide_assess_purpose, decide_request_advice
    from tests.domain.make import state, worker

    s: AgencyDecisionState = state()
    events: list[Event] = []
    for step in steps:
        try:
            if step == "assess":
                command = AssessPurpose(
                    purpose_clear=True, identifiable=True, confidential=True, special_category=True
                )
                new = decide_assess_purpose(s, command, worker(), NOW)
            else:
                new = decide_request_advice(s, RequestAdvice(question=sealed()), worker(), NOW)
        except Exception:
            continue
        events += new
        s = fold(s, new)
    assert fold(state(), events) == fold(state(), events) == s
