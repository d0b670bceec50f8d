"""A task id is the idempotency key of a step, over HTTP on the real stack.

The same body again answers as the first time and writes nothing; a different body under
the same task id and action is a 409 that says the step was already answered (and how),
never a silent 200; a completed step names the next task, which can be completed at once;
an inconsistent decision lists each problem's own stable code.
"""

from __future__ import annotations

import httpx

from app.task_bodies import RecordDecisionBody
from domain.decision import TaskKind
from tests.api.stack import ASSESS, Stack
from tests.api.test_requests_flow import act, open_request


async def test_a_retry_answers_as_the_first_time_and_another_body_is_a_409(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    first = await act(http, worker, task, ASSESS)
    assert first.status_code == 200, first.text
    written = await stack.events(rid)

    again = await act(http, worker, task, ASSESS)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()

    changed = await act(http, worker, task, ASSESS | {"special_category": True})
    assert changed.status_code == 409, changed.text
    problem = changed.json()
    assert problem["type"] == "urn:mashflow:problem:already-answered"
    assert "already answered" in problem["detail"]
    assert "purpose.assessed" in problem["detail"]  # what the recorded answer wrote
    assert str(worker.user_id) in problem["detail"]  # and who gave it
    assert await stack.events(rid) == written


async def test_a_completed_step_names_the_next_task_which_opens_at_once(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    done = (await act(http, worker, task, ASSESS)).json()
    version = done["version"]
    assert done["next_task_id"] == f"{rid}:{stack.holder}:resolve_consent:{version}"
    assert [t["task_id"] for t in done["open_tasks"]] == [done["next_task_id"]]
    sought = await act(http, worker, done["next_task_id"], {"action": "seek_consent"})
    assert sought.status_code == 200, sought.text
    assert sought.json()["next_task_id"].endswith(f":resolve_consent:{version + 1}")


async def test_an_inconsistent_decision_lists_each_problems_own_code(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    done = (await act(http, worker, task, ASSESS)).json()
    for body in (
        {"action": "seek_consent"},
        {"action": "record_consent", "outcome": "refused", "note": "Mother refused"},
    ):
        done = (await act(http, worker, done["next_task_id"], body)).json()
    before = await stack.events(rid)
    share = {"action": "record_decision", "outcome": "share", "reasons": "Risk to the child"}
    refused = await act(http, worker, done["next_task_id"], share)
    assert refused.status_code == 422, refused.text
    codes = refused.json()["codes"]
    assert len(codes) >= 2, codes
    assert "inconsistent_decision" not in codes
    assert all(code.isidentifier() and code.islower() for code in codes), codes
    # The problems about this body's own fields are named there, as any other 422.
    fields = {e["field"] for e in refused.json()["errors"]}
    assert {"necessity", "inform"} <= fields <= set(RecordDecisionBody.model_fields), fields
    assert await stack.events(rid) == before

    bare = {"action": "record_decision", "outcome": "not_share", "reasons": "Not held here"}
    no_reasons = await act(http, worker, done["next_task_id"], bare)
    assert no_reasons.status_code == 422, no_reasons.text
    assert no_reasons.json()["codes"] == ["no_reasons"]
    assert no_reasons.json()["errors"] == [
        {
            "field": "not_share_reasons",
            "location": "body",
            "message": "give at least one reason for not sharing",
        }
    ]
    assert await stack.events(rid) == before


async def test_the_next_task_named_is_one_the_caller_can_take(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """Asking for advice opens the advisor's task as well as the worker's: the worker is
    told their own next step; the advisor, whose advice leaves only the worker's step
    open, is told of none rather than of a task their role cannot complete."""
    rid = await open_request(http, stack)
    worker, advisor = stack.people["worker"], stack.people["advisor"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    done = (await act(http, worker, task, ASSESS)).json()
    for body in (
        {"action": "seek_consent"},
        {"action": "record_consent", "outcome": "refused", "note": "Mother refused"},
        {"action": "request_advice", "question": "Is sharing without consent justified?"},
    ):
        answer = await act(http, worker, done["next_task_id"], body)
        assert answer.status_code == 200, answer.text
        done = answer.json()
    roles = {t["kind"]: t["role"] for t in done["open_tasks"]}
    assert roles == {"record_decision": "agency_worker", "give_advice": "advisor"}
    assert done["next_task_id"].split(":")[2] == "record_decision"

    advice_task = next(t["task_id"] for t in done["open_tasks"] if t["kind"] == "give_advice")
    advice = {
        "action": "give_advice",
        "recommendation": "share",
        "agrees_to_share_without_consent": True,
        "advice": "Share: the risk outweighs the refusal",
        "capacity": "caldicott_guardian",
    }
    advised = await act(http, advisor, advice_task, advice)
    assert advised.status_code == 200, advised.text
    assert [t["role"] for t in advised.json()["open_tasks"]] == ["agency_worker"]
    assert advised.json()["next_task_id"] is None
