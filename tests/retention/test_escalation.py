"""A review nobody decides by its deadline escalates, end to end on the time-skipping server.

The escalation is an event in the log and a notification to the compliance
officers; the queue (service and page) marks the review overdue and escalated;
and the review can still be decided afterwards.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx

from api.app import create_app
from domain.events import RecordRetained, RetentionReviewOverdue
from domain.models import Actor
from domain.retention import ReviewStatus
from domain.vocabulary import Role
from infra.settings import Settings
from infra.users import UserDirectory
from tests.api.conftest import serving
from tests.api.test_pages import sign_in
from tests.conftest import TestDatabase
from tests.retention.conftest import SHORT_RETENTION, RetentionHub, closed_request, review_of
from tests.retention.histories import replay_and_keep
from tests.retention.test_cli import Cli, cli_env

OFFICER = Actor(user_id="u-compliance-esc", role=Role.COMPLIANCE_OFFICER)


async def test_an_undecided_review_escalates_at_its_deadline_and_can_still_be_decided(
    retention_hub: RetentionHub, settings: Settings, task_queue: str, database: TestDatabase
) -> None:
    rh = retention_hub
    request_id = await closed_request(
        rh.infra, rh.hub, f"Ignatius Latecomer {uuid.uuid4().hex[:8]}"
    )
    await rh.env.sleep(timedelta(days=32))
    await rh.retention.run_now()
    review = await review_of(rh.retention, request_id)
    assert review.decision_due_at == review.opened_at + SHORT_RETENTION.retention.review_within

    # A week and a day pass with no decision: the review's own timer escalates it.
    await rh.env.sleep(timedelta(days=8))
    for _ in range(300):
        escalated = next(
            r for r in await rh.retention.open_reviews() if r.review_id == review.review_id
        )
        if escalated.escalated_at is not None:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the review never escalated")
    assert escalated.overdue and escalated.status is ReviewStatus.OPEN
    assert escalated.escalated_at >= review.decision_due_at  # never before its deadline

    events = [r.event for r in await rh.infra.store.read_correlation(request_id)]
    overdue = [e for e in events if isinstance(e, RetentionReviewOverdue)]
    assert len(overdue) == 1  # escalated once, then it waits on the queue
    assert overdue[0].review_id == review.review_id
    assert overdue[0].due_at == review.decision_due_at
    assert overdue[0].notify == [Role.COMPLIANCE_OFFICER]
    notes = await rh.infra.outbox.for_request(request_id)
    assert [n.kind for n in notes if n.kind.startswith("retention_")] == [
        "retention_review_opened",
        "retention_review_overdue",
    ]
    assert all(n.audience_roles == ["compliance_officer"] for n in notes if "retention" in n.kind)
    assert (await rh.retention.view(review.review_id)).escalations == 1

    # The officers' queue page marks it overdue and escalated.
    issued = await UserDirectory(rh.infra.engine).add(
        "Escalation officer", Role.COMPLIANCE_OFFICER, None
    )
    own = settings.with_overrides(temporal_task_queue=task_queue)
    app = create_app(own, engine=rh.infra.engine, temporal=rh.env.client)
    async with (
        serving(app) as url,
        httpx.AsyncClient(base_url=url, headers={"accept": "text/html"}, timeout=30) as browser,
    ):
        await sign_in(browser, issued.token)
        queue = await browser.get("/retention")
        assert queue.status_code == 200
        row = queue.text.split(f'id="review-{review.review_id}"')[1].split("</tr>")[0]
        assert "Overdue: escalated" in row

    # And so does ``mashflow retention list`` (it reads the log only), signed in as the officer.
    listed = await Cli(cli_env(database), issued)("list")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if str(review.review_id) in x)
    assert "OVERDUE (escalated)" in line

    # Still decidable: retained after the escalation, the workflow ends retained.
    assert escalated.escalated_at is not None
    next_review_on = escalated.escalated_at.date() + timedelta(days=10)
    view = await rh.retention.retain(OFFICER, review.review_id, "Appeal pending", next_review_on)
    assert view.state is not None and view.state.status is ReviewStatus.RETAINED
    done = await rh.retention.result(review.review_id, review.workflow_id)
    assert done.status is ReviewStatus.RETAINED and done.escalations == 1
    retained = [
        e
        for e in (r.event for r in await rh.infra.store.read_correlation(request_id))
        if isinstance(e, RecordRetained)
    ]
    assert [e.review_id for e in retained] == [review.review_id]
    assert retained[0].reviewed_at > overdue[0].escalated_at
    await replay_and_keep(rh.env.client, "review_escalated_retained", review.workflow_id)
