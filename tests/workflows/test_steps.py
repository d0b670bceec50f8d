"""Human steps: who may act, what is refused before anything is written, and duplicates."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from app.container import Infrastructure
from app.scenario_builder import Hub, Walk, open_request
from domain.commands import (
    AssessPurpose,
    RecordConsentNotSought,
    RecordDecision,
)
from domain.decision import TaskKind
from domain.errors import InconsistentDecision, InvalidState, NotPermitted, ValidationFailed
from domain.events.values import InformPlan, LawfulBasis
from domain.models import Actor
from domain.vocabulary import (
    Art6Basis,
    ConsentOutcome,
    NotSoughtReason,
    Outcome,
    Rating,
    Role,
)
from workflows.agency_decision import AgencyDecisionWorkflow
from workflows.common import agency_stream, agency_workflow_id

ASSESS = AssessPurpose(
    purpose_clear=True, identifiable=True, confidential=True, special_category=False
)


async def started(hub: Hub) -> Walk:
    rid, subject = await open_request(hub, "Gil Example", ["police", "school_oak"])
    walk = Walk(hub, rid, subject, "police")
    await walk.until(TaskKind.ASSESS_PURPOSE)
    return walk


async def count(infra: Infrastructure, request_id: UUID) -> int:
    return len(await infra.store.read_correlation(request_id))


@pytest.mark.parametrize(
    ("actor", "refusal"),
    [
        (Actor(user_id="u-x", role=Role.AGENCY_WORKER, agency="school_oak"), NotPermitted),
        (Actor(user_id="u-x", role=Role.ADVISOR, agency="police"), NotPermitted),
        (Actor(user_id="u-x", role=Role.COORDINATOR), NotPermitted),
        (Actor(user_id="u-x", role=Role.RECIPIENT, agency="csc"), NotPermitted),
    ],
    ids=["worker of another agency", "advisor", "coordinator", "recipient"],
)
async def test_a_wrong_role_or_agency_is_refused_and_nothing_is_written(
    hub: Hub, infra: Infrastructure, actor: Actor, refusal: type[Exception]
) -> None:
    walk = await started(hub)
    before = await count(infra, walk.request_id)
    with pytest.raises(refusal):
        await walk.step(actor, "assess_purpose", ASSESS)
    assert await count(infra, walk.request_id) == before
    tasks = await hub.requests.tasks(walk.request_id, "police")
    assert [t.kind for t in tasks.tasks] == [TaskKind.ASSESS_PURPOSE]


async def test_a_share_without_a_lawful_basis_is_refused_with_nothing_written(
    hub: Hub, infra: Infrastructure
) -> None:
    walk = await started(hub)
    await walk.by_worker("assess_purpose", ASSESS)
    await walk.by_worker(
        "consent_not_sought",
        RecordConsentNotSought(
            reason=NotSoughtReason.RISK_OF_SIGNIFICANT_HARM_TO_CHILD,
            explanation=await walk.text("risk"),
        ),
    )
    before = await count(infra, walk.request_id)
    with pytest.raises((InconsistentDecision, InvalidState)) as refused:
        await walk.by_worker(
            "record_decision",
            RecordDecision(outcome=Outcome.SHARE, reasons=await walk.text("share it")),
        )
    assert "lawful basis" in str(refused.value) or "basis" in str(refused.value)
    assert await count(infra, walk.request_id) == before


async def test_a_step_out_of_order_is_refused(hub: Hub) -> None:
    walk = await started(hub)
    with pytest.raises(InvalidState):
        await walk.by_worker(
            "record_decision",
            RecordDecision(outcome=Outcome.NOT_SHARE, reasons=await walk.text("no")),
        )


async def test_text_sealed_for_another_subject_is_refused(hub: Hub) -> None:
    walk = await started(hub)
    stranger = await hub.requests.seal(UUID(int=7), "someone else's note")
    with pytest.raises(ValidationFailed) as refused:
        await walk.by_worker("assess_purpose", ASSESS.model_copy(update={"note": stranger}))
    assert refused.value.field == "note"


async def test_the_same_task_id_twice_runs_the_step_once(hub: Hub, infra: Infrastructure) -> None:
    walk = await started(hub)
    worker = hub.worker("police")
    task_id = f"{walk.request_id}:police:assess_purpose:0"
    first, second = await asyncio.gather(
        hub.requests.step(worker, walk.request_id, "police", "assess_purpose", ASSESS, task_id),
        hub.requests.step(worker, walk.request_id, "police", "assess_purpose", ASSESS, task_id),
    )
    assert first == second
    events = await infra.store.read_correlation(walk.request_id)
    assert [e.event_type for e in events].count("purpose.assessed") == 1


async def test_withdrawal_stops_every_agency_and_closes_the_request(
    hub: Hub, infra: Infrastructure
) -> None:
    walk = await started(hub)
    with pytest.raises(NotPermitted):
        await hub.requests.withdraw(hub.worker("police"), walk.request_id, "no", walk.subject_id)
    await hub.requests.withdraw(
        hub.coordinator, walk.request_id, "Family moved away", walk.subject_id
    )
    result = await hub.requests.result(walk.request_id)
    assert result.withdrawn and result.shared_by == [] and result.not_shared_by == []
    kinds = [e.event_type for e in await infra.store.read_correlation(walk.request_id)]
    assert kinds.count("request.withdrawn") == 1 and kinds[-1] == "request.closed"
    with pytest.raises(InvalidState):
        await walk.by_worker("assess_purpose", ASSESS)


async def test_re_rating_to_red_brings_every_agency_deadline_forward(hub: Hub) -> None:
    walk = await started(hub)
    before = (await hub.requests.view(walk.request_id)).state.decision_due_at
    view = await hub.requests.change_rating(
        hub.coordinator, walk.request_id, Rating.RED, "Disclosure at school today", walk.subject_id
    )
    assert view.state.rating is Rating.RED and view.state.decision_due_at < before
    handle = hub.requests.client.get_workflow_handle_for(
        AgencyDecisionWorkflow.run, agency_workflow_id(walk.request_id, "school_oak")
    )
    for _ in range(50):
        child = await handle.query(AgencyDecisionWorkflow.current)
        if child.rating is Rating.RED:
            break
        await asyncio.sleep(0.1)
    assert child.rating is Rating.RED and child.decision_due_at == view.state.decision_due_at
    with pytest.raises(ValidationFailed):
        await hub.requests.change_rating(
            hub.coordinator, walk.request_id, Rating.RED, "again", walk.subject_id
        )


async def _shared_and_delivered(hub: Hub) -> tuple[Walk, UUID]:
    rid, subject = await open_request(hub, "Ivy Example", ["police"])
    walk = Walk(hub, rid, subject, "police")
    await walk.assess()
    await walk.consent(ConsentOutcome.GIVEN)
    await walk.share(
        LawfulBasis(art6=Art6Basis.PUBLIC_TASK), inform=InformPlan(will_inform=True), override=False
    )
    await walk.until(TaskKind.ACKNOWLEDGE_RECEIPT)
    (package,) = await hub.packages.packages.list_for_request(rid)
    return walk, package.package_id


async def test_a_sender_revokes_a_package_not_yet_opened(hub: Hub, infra: Infrastructure) -> None:
    walk, package_id = await _shared_and_delivered(hub)
    with pytest.raises(NotPermitted):
        await hub.packages.revoke(hub.recipient, package_id, "not mine to recall")
    await hub.packages.revoke(hub.worker("police"), package_id, "Sent the wrong entries")
    stored = await infra.packages.get(package_id)
    assert stored is not None and stored.status == "revoked" and stored.sealed is None
    with pytest.raises(InvalidState, match="revoked"):
        await hub.packages.open(hub.recipient, package_id)
    kinds = [e.event_type for e in await infra.store.read_correlation(walk.request_id)]
    assert "package.revoked" in kinds and "package.opened" not in kinds


async def test_a_package_once_opened_cannot_be_recalled(hub: Hub, infra: Infrastructure) -> None:
    _, package_id = await _shared_and_delivered(hub)
    opened = await hub.packages.open(hub.recipient, package_id)
    assert len(opened.items) == 2 and {i["kind"] for i in opened.items} == {"fact", "opinion"}
    with pytest.raises(InvalidState, match="opened"):
        await hub.packages.revoke(hub.worker("police"), package_id, "too late")
    with pytest.raises(ValidationFailed) as refused:
        await hub.packages.acknowledge(hub.recipient, package_id, "0" * 64)
    assert refused.value.field == "sha256"
    await hub.packages.acknowledge(hub.recipient, package_id, opened.sha256)
    stored = await infra.packages.get(package_id)
    assert stored is not None and stored.status == "acknowledged" and stored.sealed is not None


async def test_a_step_answers_with_where_its_last_event_landed(
    hub: Hub, infra: Infrastructure
) -> None:
    walk = await started(hub)
    done = await hub.requests.step(
        hub.worker("police"), walk.request_id, "police", "assess_purpose", ASSESS
    )
    stored = await infra.store.read_stream(agency_stream(walk.request_id, "police"))
    assert done.version == stored[-1].version
    assert done.position == stored[-1].position  # the edge waits for this, no look-up
