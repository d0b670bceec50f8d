"""Every path of the decision, end to end: real workflows, real store, real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

from temporalio.testing import WorkflowEnvironment

from app import scenarios
from app.container import Infrastructure
from app.history import request_history
from app.scenario_builder import Hub
from domain.events import RecordedEvent
from domain.events.catalogue import DecisionRecorded
from domain.events.values import ProtectedPerson
from domain.vocabulary import (
    Art9Condition,
    AtRiskKind,
    ConsentOutcome,
    DeadlineKind,
    Outcome,
    Para18Reason,
    ProtectedRelation,
)
from tests.workflows.histories import replay_and_keep
from tests.workflows.test_replay_equals_live import assert_replay_equals_live

CHILD_OF_SUBJECT = ProtectedPerson(
    relation=ProtectedRelation.CHILD_OF_SUBJECT, kind=AtRiskKind.CHILD
)


async def history(infra: Infrastructure, request_id: UUID) -> list[RecordedEvent]:
    return await infra.store.read_correlation(request_id)


def types(events: list[RecordedEvent]) -> list[str]:
    return [e.event_type for e in events]


def record(events: list[RecordedEvent]) -> DecisionRecorded:
    (found,) = [e.event for e in events if isinstance(e.event, DecisionRecorded)]
    return found


async def test_consent_given_shares_delivers_and_closes(hub: Hub, infra: Infrastructure) -> None:
    rid = await scenarios.consent_given(hub)
    result = await hub.requests.result(rid)
    await replay_and_keep(hub.requests.client, "consent_given", rid, ["police"])
    assert result.shared_by == ["police"] and not result.withdrawn
    events = await history(infra, rid)
    assert types(events) == [
        "request.opened",
        "purpose.assessed",
        "consent.sought",
        "consent.recorded",
        "lawful_basis.determined",
        "information.selected",
        "decision.recorded",
        "package.sent",
        "package.opened",
        "package.acknowledged",
        "person.informed",
        "agency_decision.completed",
        "request.closed",
    ]
    decision = record(events).record
    assert decision.outcome is Outcome.SHARE and decision.consent.outcome is ConsentOutcome.GIVEN
    assert decision.decided_by == "u-worker-police" and decision.shared_with == "csc"


async def test_a_refusal_is_respected_and_nothing_is_sent(hub: Hub, infra: Infrastructure) -> None:
    rid = await scenarios.consent_refused_not_shared(hub)
    result = await hub.requests.result(rid)
    await replay_and_keep(hub.requests.client, "consent_refused_not_shared", rid, ["school_oak"])
    assert result.not_shared_by == ["school_oak"]
    events = await history(infra, rid)
    assert "package.sent" not in types(events)
    decision = record(events).record
    assert decision.outcome is Outcome.NOT_SHARE
    assert decision.consent.outcome is ConsentOutcome.REFUSED
    assert await infra.packages.list_for_request(rid) == []


async def test_refused_consent_can_be_overridden_with_advice_on_a_safeguarding_ground(
    hub: Hub, infra: Infrastructure
) -> None:
    rid = await scenarios.refused_but_shared_with_advice(hub)
    assert (await hub.requests.result(rid)).shared_by == ["police"]
    await replay_and_keep(hub.requests.client, "refused_but_shared_with_advice", rid, ["police"])
    events = await history(infra, rid)
    assert types(events).index("advice.given") < types(events).index("decision.recorded")
    decision = record(events).record
    assert decision.consent.outcome is ConsentOutcome.REFUSED
    assert decision.advice and decision.advice[0].agrees_to_share_without_consent
    assert decision.lawful_basis is not None and decision.lawful_basis.without_consent
    assert "person.not_informed" in types(events)


async def test_a_parents_information_is_shared_without_consent_to_protect_their_child(
    hub: Hub, infra: Infrastructure
) -> None:
    rid = await scenarios.parent_shared_to_protect_child(hub)
    assert (await hub.requests.result(rid)).shared_by == ["gp_riverside"]
    events = await history(infra, rid)
    decision = record(events).record
    assert decision.consent.outcome is ConsentOutcome.NOT_SOUGHT
    assert decision.consent.at_risk == CHILD_OF_SUBJECT
    basis = decision.lawful_basis
    assert basis is not None
    assert basis.art9 is Art9Condition.SAFEGUARDING_CHILDREN_AND_INDIVIDUALS_AT_RISK
    assert basis.protects == CHILD_OF_SUBJECT
    assert basis.para18_reason is Para18Reason.WOULD_PREJUDICE_PROTECTION
    assert decision.advice[-1].agrees_to_share_without_consent
    text = await request_history(infra.store, infra.keyring, rid, reveal=False)
    assert any("protecting the child of subject" in e.summary for e in text.events)


async def test_red_shares_without_seeking_consent_and_the_advisor_reviews_after(
    hub: Hub, infra: Infrastructure
) -> None:
    rid = await scenarios.red_consent_not_sought(hub)
    assert (await hub.requests.result(rid)).shared_by == ["police"]
    await replay_and_keep(hub.requests.client, "red_consent_not_sought", rid, ["police"])
    events = await history(infra, rid)
    kinds = types(events)
    assert "consent.not_sought" in kinds and "consent.sought" not in kinds
    assert kinds.index("package.sent") < kinds.index("advice.given")
    decision = record(events).record
    assert decision.urgent_override is not None
    completed = [e for e in events if e.event_type == "agency_decision.completed"]
    assert len(completed) == 1


async def test_no_legitimate_purpose_means_no_share(hub: Hub, infra: Infrastructure) -> None:
    rid = await scenarios.no_legitimate_purpose(hub)
    assert (await hub.requests.result(rid)).not_shared_by == ["gp_riverside"]
    await replay_and_keep(hub.requests.client, "no_legitimate_purpose", rid, ["gp_riverside"])
    events = await history(infra, rid)
    assessed = next(e.event for e in events if e.event_type == "purpose.assessed")
    assert assessed.legitimate is False  # type: ignore[attr-defined]
    assert record(events).record.outcome is Outcome.NOT_SHARE


async def test_a_missed_deadline_escalates_and_the_request_goes_on(
    hub: Hub, infra: Infrastructure, time_skipping_env: WorkflowEnvironment
) -> None:
    opened: asyncio.Queue[UUID] = asyncio.Queue()
    answered = asyncio.Event()
    running = asyncio.create_task(scenarios.deadline_missed(hub, opened, answered))
    rid = await opened.get()
    await time_skipping_env.sleep(timedelta(hours=5))  # red: 4 hours around the clock
    events = await history(infra, rid)
    kinds = types(events)
    assert "deadline.missed" in kinds
    escalations = [e.event for e in events if e.event_type == "deadline.escalated"]
    assert [str(e.level) for e in escalations] == ["warning", "breach"]  # type: ignore[attr-defined]
    notes = await infra.outbox.for_request(rid)
    assert {"deadline_warning", "deadline_breach"} <= {n.kind for n in notes}
    breach = next(n for n in notes if n.kind == "deadline_breach")
    assert set(breach.audience_roles) == {"advisor", "coordinator"}
    # Mid-flight, the agency's own workflow and a compliance replay agree on the missed
    # deadline. The request workflow hears of it only when the agency's decision
    # completes (it folds the child's result); the replay, like the read models, shows it.
    replayed = await request_history(infra.store, infra.keyring, rid, reveal=False)
    (probation,) = replayed.agencies
    assert probation.state == await hub.requests.decision(rid, "probation")
    assert replayed.request is not None
    assert replayed.request.progress("probation").missed == [DeadlineKind.DECISION]
    assert (await hub.requests.view(rid)).state.progress("probation").missed == []
    answered.set()
    assert await running == rid
    assert (await hub.requests.result(rid)).not_shared_by == ["probation"]
    await assert_replay_equals_live(hub, infra, rid)
    await replay_and_keep(hub.requests.client, "deadline_missed", rid, ["probation"])
    events = await history(infra, rid)
    completed = next(e.event for e in events if e.event_type == "agency_decision.completed")
    assert completed.on_time is False  # type: ignore[attr-defined]
