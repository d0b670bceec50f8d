"""The advisor's pages over real HTTP on the real stack: what they are asked to advise on
(never the person's details), advice refused by the rules kept as typed with the problem
at its answer, and an urgent share to review with the way to recall it."""

from __future__ import annotations

import uuid

import httpx

from domain.decision import TaskKind
from domain.events.access import PersonalDataViewed, ViewKind
from tests.api.a11y import problems
from tests.api.stack import Stack
from tests.api.test_requests_flow import act
from tests.pages.walk import (
    checked,
    csrf_of,
    field_value,
    open_request,
    signed_in,
    summary_links,
    up_to_the_decision,
)

QUESTION = "Is sharing without consent justified here?"


async def test_the_advisor_sees_what_they_advise_on_and_a_refusal_keeps_their_advice(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await up_to_the_decision(http, stack, rid)
    asked = await act(
        http, stack.people["worker"], task, {"action": "request_advice", "question": QUESTION}
    )
    assert asked.status_code == 200, asked.text
    advice_task = await stack.task_id(rid, stack.holder, TaskKind.GIVE_ADVICE)
    async with signed_in(stack, "advisor") as advisor:
        page = await advisor.get(f"/tasks/{advice_task}")
        assert page.status_code == 200, page.text
        html = page.text
        for shown in (
            "The worker's question",
            QUESTION,
            "The worker's assessment so far",
            "Identifies a living person",
            "Not sought",  # the consent outcome
            "Harmful delay in urgent case",  # and its reason
            "Immediate risk to the child",  # the worker's explanation
            "Proposed lawful basis",
            "Public task",
            "Significant harm to child",
            "Proposed items",
            "Domestic abuse incident attended at the home",
        ):
            assert shown in html, shown
        assert "Ada Example" not in html and "Who the request is about" not in html
        assert problems(html) == []
        viewed = [
            r.event
            for r in await stack.store.read_correlation(uuid.UUID(rid))
            if isinstance(r.event, PersonalDataViewed)
            and r.event.viewer_id == str(stack.people["advisor"].user_id)
        ]
        assert [v.what for v in viewed] == [ViewKind.TASK]

        typed = {
            "recommendation": "not_share",
            "agrees_to_share_without_consent": "true",
            "capacity": "caldicott_guardian",
            "position": "Named nurse",
            "advice": "Respect the family's wishes <for now>",
        }
        refused = await advisor.post(
            f"/tasks/{advice_task}",
            data={"csrf_token": csrf_of(page), "action": "give_advice", **typed},
        )
        assert refused.status_code == 422, refused.text
        assert summary_links(refused.text) == ["#agrees_to_share_without_consent"]
        assert "only when you recommend sharing" in refused.text
        assert checked(refused.text, "recommendation") == {"not_share"}
        assert checked(refused.text, "agrees_to_share_without_consent") == {"true"}
        assert checked(refused.text, "capacity") == {"caldicott_guardian"}
        assert field_value(refused.text, "position") == "Named nurse"
        assert field_value(refused.text, "advice") == typed["advice"]
        assert problems(refused.text) == []

        typed["recommendation"] = "share"
        given = await advisor.post(
            f"/tasks/{advice_task}",
            data={"csrf_token": csrf_of(page), "action": "give_advice", **typed},
        )
        assert given.status_code == 303, given.text
        done = await advisor.get(given.headers["location"])
        assert "Advice given" in done.text and "govuk-panel--confirmation" in done.text
        assert "Back to your inbox" in done.text and problems(done.text) == []
    async with signed_in(stack, "worker") as worker:  # the advice, by its advisor's name
        decision = await worker.get(f"/tasks/{task}")
        assert "Advice received" in decision.text
        assert "Flow advisor, caldicott guardian (Named nurse)" in decision.text


async def test_an_urgent_share_to_review_shows_what_was_shared_and_how_to_recall_it(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await up_to_the_decision(http, stack, rid)
    decided = await act(
        http,
        stack.people["worker"],
        task,
        {
            "action": "record_decision",
            "outcome": "share",
            "reasons": "The child is at risk tonight",
            "necessity": "Only the incident",
            "inform": {"will_inform": False, "reason_not": "would_put_someone_at_risk"},
            "urgent_override": "The suspect returns home this evening",
        },
    )
    assert decided.status_code == 200, decided.text
    review = await stack.task_id(rid, stack.holder, TaskKind.REVIEW_URGENT_SHARE)
    await stack.task_id(rid, stack.holder, TaskKind.ACKNOWLEDGE_RECEIPT)  # the package is out
    async with signed_in(stack, "advisor") as advisor:
        page = await advisor.get(f"/tasks/{review}")
        assert page.status_code == 200, page.text
        html = page.text
        for shown in (
            "Review an urgent share",
            "Why waiting was unsafe",
            "The suspect returns home this evening",
            "The child is at risk tonight",
            "Public task, significant harm to child",
            "Domestic abuse incident attended at the home",
        ):
            assert shown in html, shown
        state = await stack.requests.decision(uuid.UUID(rid), stack.holder)
        assert state.package is not None
        assert f'href="/packages/{state.package.package_id}" role="button"' in html
        assert "Revoke the package" in html and problems(html) == []
