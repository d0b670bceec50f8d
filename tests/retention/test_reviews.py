"""Retention reviews on the time-skipping server, from a closed request to its disposal.

A request is walked to the end with a canary name; weeks pass in seconds; the
schedule's run opens a review; a compliance officer retains it, the next review
opens on the chosen day and is disposed of. Then
the canary and the date of birth are looked for everywhere they must not be.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from app import scenarios
from app.history import request_history
from app.retention import RetentionReview
from domain import errors
from domain.events import RecordDisposed, RecordRetained, RetentionReviewOverdue, SubjectErased
from domain.models import Actor
from domain.retention import ReviewStatus
from domain.vocabulary import DisposalReason, RecordType, Role
from infra.review_queue import ReviewQueue
from tests.conftest import TestDatabase
from tests.readmodels.settle import settled
from tests.readmodels.test_erasure import decision_row, rows_text
from tests.retention.conftest import RetentionHub
from tests.retention.histories import replay_and_keep
from tests.workflows.test_privacy import _all_tables_text, _payload_texts
from workflows.common import agency_workflow_id, request_workflow_id

OFFICER = Actor(user_id="u-compliance-1", role=Role.COMPLIANCE_OFFICER)
DATE_OF_BIRTH = date(2017, 3, 14).isoformat()  # what app.scenarios gives every subject


async def _review_for(rh: RetentionHub, request_id: UUID, timeout_s: float = 30) -> RetentionReview:
    """Wait for the review of this request's shared decision to be opened (by its child)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        for review in await rh.retention.open_reviews():
            if review.request_id == request_id and review.record_type is RecordType.SHARED_DECISION:
                return review
        await asyncio.sleep(0.1)
    raise TimeoutError("no review opened")


async def _events_of(rh: RetentionHub, request_id: UUID) -> list[object]:
    return [r.event for r in await rh.infra.store.read_correlation(request_id)]


async def _decisions_of(rh: RetentionHub, request_id: UUID) -> list[object]:
    """The events people caused (an escalation may fall whenever the server skips time)."""
    return [
        e for e in await _events_of(rh, request_id) if not isinstance(e, RetentionReviewOverdue)
    ]


async def _closed_request(rh: RetentionHub, canary: str) -> UUID:
    request_id = await scenarios.consent_given(rh.hub, name=canary)
    await rh.hub.requests.result(request_id)
    # Reviews are found by reading the log, which shows a commit once no older
    # transaction anywhere on the server is still open: wait for that, not race it.
    events = await rh.infra.store.read_correlation(request_id)
    await rh.infra.store.wait_visible(max(e.position for e in events))
    return request_id


async def test_nothing_is_due_before_the_review_date(retention_hub: RetentionHub) -> None:
    rh = retention_hub
    request_id = await _closed_request(rh, f"Quentin Earlybird {uuid.uuid4().hex[:8]}")
    result = await rh.retention.run_now()
    assert not [w for w in result.opened if str(request_id) in w]


async def test_a_review_opens_is_retained_and_disposal_shreds(
    retention_hub: RetentionHub, database: TestDatabase
) -> None:
    rh = retention_hub
    canary = f"Zebedee Shredfield {uuid.uuid4().hex[:8]}"
    request_id = await _closed_request(rh, canary)

    # A month and a bit later, the schedule's run finds the shared decision due.
    await rh.env.sleep(timedelta(days=32))
    run_id = f"retention-run-{uuid.uuid4()}"
    run = await rh.retention.run_now(workflow_id=run_id)
    assert any(str(request_id) in w and "shared_decision" in w for w in run.opened)
    assert all(canary not in w for w in run.opened)
    first = await _review_for(rh, request_id)

    # A second run while it is open opens nothing new for it.
    again = await rh.retention.run_now()
    assert first.workflow_id not in again.opened

    # Only a compliance officer may decide; a refusal writes nothing.
    before = len(await _decisions_of(rh, request_id))
    with pytest.raises(errors.NotPermitted):
        await rh.retention.retain(
            rh.hub.coordinator, first.review_id, "Keep it", first.opened_at.date() + timedelta(10)
        )
    with pytest.raises(errors.NotPermitted):
        await rh.retention.dispose(
            rh.hub.worker("police"), first.review_id, DisposalReason.NO_LONGER_NECESSARY
        )
    assert len(await _decisions_of(rh, request_id)) == before

    # Retain: the next review is scheduled for the chosen day, and opens on it.
    next_review_on = first.opened_at.date() + timedelta(days=20)
    view = await rh.retention.retain(
        OFFICER, first.review_id, "Sibling case still open", next_review_on
    )
    assert view.state is not None and view.state.status is ReviewStatus.RETAINED
    done = await rh.retention.result(first.review_id, first.workflow_id)
    assert done.status is ReviewStatus.RETAINED and done.next_review_on == next_review_on
    # A run finds due records by reading the log: wait until the retain decision shows.
    logged = await rh.infra.store.read_correlation(request_id)
    await rh.infra.store.wait_visible(
        max(r.position for r in logged if isinstance(r.event, RecordRetained))
    )
    early = await rh.retention.run_now()
    assert not [w for w in early.opened if str(request_id) in w]

    # (The run is told the day: once an update has run, the test server skips no more time.)
    later = await rh.retention.run_now(today=next_review_on)
    assert any(next_review_on.isoformat() in w and str(request_id) in w for w in later.opened)
    second = await _review_for(rh, request_id)
    assert second.review_id != first.review_id and second.due_on == next_review_on

    # Dispose: the decision is recorded, the subject shredded, the packages purged.
    view = await rh.retention.dispose(
        OFFICER, second.review_id, DisposalReason.RETENTION_PERIOD_ENDED
    )
    assert view.state is not None and view.state.status is ReviewStatus.DISPOSED
    assert (await rh.retention.result(second.review_id, second.workflow_id)).status is (
        ReviewStatus.DISPOSED
    )
    with pytest.raises(errors.InvalidState):
        await rh.retention.dispose(OFFICER, second.review_id, DisposalReason.RETENTION_PERIOD_ENDED)

    # The queue (rm_reviews) shows both reviews decided, by whom and how; emptied and
    # rewound, as migration 0007 leaves it, it comes back the same from the log.
    logged = await rh.infra.store.read_correlation(request_id)
    await rh.infra.store.wait_visible(max(r.position for r in logged))
    now = datetime.now(UTC)
    shown = await rh.retention.reviews(now)
    by_id = {r.review_id: r for r in shown}
    kept_review, disposed_review = by_id[first.review_id], by_id[second.review_id]
    assert kept_review.status is ReviewStatus.RETAINED
    assert kept_review.decided_by == OFFICER.user_id
    assert kept_review.next_review_on == next_review_on
    assert disposed_review.status is ReviewStatus.DISPOSED
    assert disposed_review.decided_by == OFFICER.user_id
    assert disposed_review.next_review_on is None
    assert not [r for r in await rh.retention.open_reviews(now) if r.request_id == request_id]
    async with rh.infra.store.engine.begin() as conn:
        await ReviewQueue(rh.infra.store).reset(conn)
    assert await rh.retention.reviews(now) == shown

    # The read models hold the request, erased: no sealed value left in any of its rows,
    # yet who decided what, and on which basis, still reads there (searched below too).
    await settled(rh.infra, request_id)
    rows = await rows_text(rh.infra, request_id)
    assert rows and '"ct"' not in rows and '"sealed"' not in rows
    kept = await decision_row(rh.infra, request_id)
    assert kept["erased"] is True and kept["outcome"] == "share"
    assert kept["state"]["decision"]["decided_by"] == "u-worker-police"
    assert kept["state"]["decision"]["lawful_basis"]["art6"]
    assert kept["state"]["decision"]["reasons"] == {"erased": True}

    # Nowhere in the database, in clear: not the name, not the date of birth.
    tables = await _all_tables_text(database)
    assert canary not in tables and "Shredfield" not in tables
    assert DATE_OF_BIRTH not in tables
    assert all(p.sealed is None for p in await rh.infra.packages.list_for_request(request_id))

    # The decrypted history shows [erased], yet the log verifies and the trail reads.
    recorded = await rh.infra.store.read_correlation(request_id)
    await rh.infra.store.wait_visible(max(e.position for e in recorded))
    history = await request_history(rh.infra.store, rh.infra.keyring, request_id, reveal=True)
    assert history.subject_erased
    assert history.request_details is not None
    assert history.request_details["subject_details"] == "[erased]"
    assert "Shredfield" not in str(history.model_dump())
    assert history.verification.ok
    assert (await rh.infra.store.verify()).ok
    trail = {e.event_type: e for e in history.events}
    assert trail["decision.recorded"].actor_id == "u-worker-police"
    retained = trail["retention.record_retained"]
    assert retained.actor_id == OFFICER.user_id and retained.actor_role == "compliance_officer"
    assert next_review_on.isoformat() in retained.summary
    disposed = trail["retention.record_disposed"]
    assert disposed.actor_id == OFFICER.user_id
    assert "retention_period_ended" in disposed.summary
    events = await _events_of(rh, request_id)
    assert [type(e) for e in events if isinstance(e, RecordRetained | RecordDisposed)] == [
        RecordRetained,
        RecordDisposed,
    ]
    erased = next(e for e in events if isinstance(e, SubjectErased))
    assert erased.erased_by == OFFICER.user_id

    # Temporal holds none of it either: ids, stored histories, decoded payloads.
    workflow_ids = [
        request_workflow_id(request_id),
        agency_workflow_id(request_id, "police"),
        first.workflow_id,
        second.workflow_id,
    ]
    for workflow_id in workflow_ids:
        assert canary not in workflow_id
        stored, decoded = await _payload_texts(rh.hub, workflow_id)
        for text in (stored, decoded):
            assert "Shredfield" not in text and DATE_OF_BIRTH not in text

    # Each workflow's history replays on today's code (and is kept when recording).
    client = rh.env.client
    await replay_and_keep(client, "review_run", run_id)
    await replay_and_keep(client, "review_retained", first.workflow_id)
    await replay_and_keep(client, "review_disposed", second.workflow_id)
