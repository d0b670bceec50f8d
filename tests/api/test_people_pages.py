"""The practitioners' forms over real HTTP on the real stack: what is asked on a task page
(each showing recorded), re-rating and withdrawing on the request page, revoking on the
package page; messages in place, CSRF on every form, and the pages' accessibility."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from domain.decision import TaskKind
from domain.events.access import PersonalDataViewed, ViewKind
from tests.api.a11y import error_ids, problems
from tests.api.stack import Stack
from tests.api.test_requests_flow import (
    SCRIPT,
    csrf_of,
    decide_to_share,
    delivered_package,
    open_request,
    signed_in,
)

ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"


async def views(stack: Stack, rid: str) -> list[PersonalDataViewed]:
    recorded = await stack.store.read_correlation(uuid.UUID(rid))
    return [r.event for r in recorded if isinstance(r.event, PersonalDataViewed)]


async def shown(page: httpx.AsyncClient, path: str, text: str) -> httpx.Response:
    """The page once the read model has caught up enough to show ``text``."""
    for _ in range(100):
        response = await page.get(path)
        if text in response.text:
            return response
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared on {path}")


async def test_a_task_page_shows_what_is_asked_and_records_each_showing(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    purpose = f"Strategy discussion {SCRIPT}"
    rid = await open_request(http, stack, purpose=purpose, information_sought="Call-outs, 2025")
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    assert await views(stack, rid) == []

    async with signed_in(stack, "worker") as worker:
        page = await worker.get(f"/tasks/{task}")
        assert page.status_code == 200, page.text
        assert f"Strategy discussion {ESCAPED}" in page.text and SCRIPT not in page.text
        assert "Call-outs, 2025" in page.text
        assert problems(page.text) == []
    (seen,) = await views(stack, rid)
    assert seen.what is ViewKind.TASK
    assert seen.viewer_id == str(stack.people["worker"].user_id)
    assert seen.viewer_agency == stack.holder

    for who in ("other_worker", "other_advisor", "recipient", "coordinator"):
        async with signed_in(stack, who) as other:
            refused = await other.get(f"/tasks/{task}")
            assert refused.status_code == 403, (who, refused.text)
            assert "Strategy discussion" not in refused.text
    assert len(await views(stack, rid)) == 1  # refusals record nothing

    async with signed_in(stack, "compliance") as compliance:
        history = await compliance.get(f"/requests/{rid}/history")
        assert history.status_code == 200
        assert (
            '<td class="govuk-table__cell">task</td>' in history.text
        )  # the showing is in the request's access log


async def test_the_coordinator_rerates_and_withdraws_on_the_request_page(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack, rating="green")
    await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    path = f"/requests/{rid}"
    async with signed_in(stack, "coordinator") as page:
        detail = await shown(page, path, "Change the rating")
        assert problems(detail.text) == []
        before = await stack.events(rid)

        no_rationale = await page.post(
            f"{path}/rating", data={"csrf_token": csrf_of(detail), "rating": "red"}
        )
        assert no_rationale.status_code == 422, no_rationale.text
        assert error_ids(no_rationale.text) == {"rerate_rationale-error"}
        assert 'aria-describedby="rerate_rationale-error"' in no_rationale.text
        assert 'value="red" checked' in no_rationale.text  # what was chosen is kept
        assert problems(no_rationale.text) == []
        no_rating = await page.post(
            f"{path}/rating", data={"csrf_token": csrf_of(detail), "rationale": "Worse"}
        )
        assert no_rating.status_code == 422
        assert "rerate_rating-error" in error_ids(no_rating.text)
        forged = await page.post(
            f"{path}/rating", data={"rating": "red", "rationale": "Injury reported"}
        )
        assert forged.status_code == 403
        assert await stack.events(rid) == before

        rated = await page.post(
            f"{path}/rating",
            data={"csrf_token": csrf_of(detail), "rating": "red", "rationale": "Injury reported"},
        )
        assert rated.status_code == 303, rated.text
        assert rated.headers["location"] == f"{path}?done=rating"
        assert (await stack.requests.view(uuid.UUID(rid))).state.rating == "red"
        same = await page.post(
            f"{path}/rating",
            data={"csrf_token": csrf_of(detail), "rating": "red", "rationale": "Still red"},
        )
        assert same.status_code == 422, same.text  # refused by the rules, shown at the field
        assert "already rated red" in same.text
        assert error_ids(same.text) == {"rerate_rating-error"}
        confirmed = await page.get(rated.headers["location"])
        assert "deadlines recomputed" in confirmed.text
        assert 'rag rag-red">Red</span>' in confirmed.text  # not the lagging read
        assert 'type="radio" value="red"' not in confirmed.text  # nor offered again

        blank = await page.post(
            f"{path}/withdraw", data={"csrf_token": csrf_of(detail), "reason": "   "}
        )
        assert blank.status_code == 422
        assert error_ids(blank.text) == {"withdraw_reason-error"}
        assert problems(blank.text) == []
        withdrawn = await page.post(
            f"{path}/withdraw",
            data={"csrf_token": csrf_of(detail), "reason": "Resolved by the school"},
        )
        assert withdrawn.status_code == 303, withdrawn.text
        assert (await stack.requests.view(uuid.UUID(rid))).state.withdrawn_at is not None
        after = await stack.events(rid)

        again = await page.post(
            f"{path}/withdraw", data={"csrf_token": csrf_of(detail), "reason": "Twice"}
        )
        assert again.status_code == 409, again.text
        assert "withdraw_form-error" in error_ids(again.text)
        assert problems(again.text) == []
        assert await stack.events(rid) == after

    async with signed_in(stack, "worker") as worker:
        form = await worker.get("/tasks")
        refused = await worker.post(
            f"{path}/withdraw", data={"csrf_token": csrf_of(form), "reason": "Not mine"}
        )
        assert refused.status_code == 403
    assert await stack.events(rid) == after


async def test_the_sending_agency_revokes_an_unopened_package_on_its_page(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    await decide_to_share(http, stack, rid)
    package_id = await delivered_package(http, stack, rid)
    path = f"/packages/{package_id}"

    for who in ("other_worker", "other_advisor", "other_recipient", "coordinator"):
        async with signed_in(stack, who) as other:
            refused = await other.get(path)
            assert refused.status_code == 403, (who, refused.text)
    async with signed_in(stack, "recipient") as recipient:
        mine = await recipient.get(path)
        assert mine.status_code == 200 and "Open the package" in mine.text
        assert "Revoke the package" not in mine.text
        refused = await recipient.post(
            f"{path}/revoke", data={"csrf_token": csrf_of(mine), "reason": "Not mine to recall"}
        )
        assert refused.status_code == 403

    async with signed_in(stack, "advisor") as advisor:
        sent = await advisor.get("/packages")
        assert sent.status_code == 200 and f'href="{path}"' in sent.text
        assert "Packages sent" in sent.text
        page = await advisor.get(path)
        assert page.status_code == 200 and "Revoke the package" in page.text
        assert problems(page.text) == []
        before = await stack.events(rid)
        blank = await advisor.post(f"{path}/revoke", data={"csrf_token": csrf_of(page)})
        assert blank.status_code == 422
        assert error_ids(blank.text) == {"reason-error"}
        assert problems(blank.text) == []
        no_csrf = await advisor.post(f"{path}/revoke", data={"reason": "Sent in error"})
        assert no_csrf.status_code == 403
        assert await stack.events(rid) == before

        done = await advisor.post(
            f"{path}/revoke", data={"csrf_token": csrf_of(page), "reason": "Sent in error"}
        )
        assert done.status_code == 303, done.text
        after = await advisor.get(done.headers["location"])
        assert "has been revoked" in after.text and "Revoke the package" not in after.text
        types = [r.event_type for r in await stack.store.read_correlation(uuid.UUID(rid))]
        assert types.count("package.revoked") == 1
        again = await advisor.post(  # a second click: the same step, run once
            f"{path}/revoke", data={"csrf_token": csrf_of(page), "reason": "Twice"}
        )
        assert again.status_code == 303
        types = [r.event_type for r in await stack.store.read_correlation(uuid.UUID(rid))]
        assert types.count("package.revoked") == 1

    opened = await http.get(
        f"/api/packages/{package_id}", headers=stack.people["recipient"].headers
    )
    assert opened.status_code == 409, opened.text  # revoked: nothing left to open


async def test_each_role_has_its_pages_in_the_header(stack: Stack) -> None:
    expected = {
        "coordinator": ["/requests", "/requests/new", "/dashboard"],
        "worker": ["/tasks", "/packages"],
        "advisor": ["/tasks", "/packages", "/dashboard"],
        "recipient": ["/packages"],
        "compliance": ["/requests", "/retention", "/dashboard"],
    }
    for who, links in expected.items():
        async with signed_in(stack, who) as page:
            home = await page.get("/agencies")
            header = home.text.split("</nav>")[0]
            for link in links:
                assert f'href="{link}"' in header, (who, link)
            assert 'href="/agencies" aria-current="page"' in header
            others = {h for hs in expected.values() for h in hs} - set(links)
            assert not any(f'href="{h}"' in header for h in others), who
            assert problems(home.text) == []


async def test_the_pages_a_practitioner_fills_in_are_accessible(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack, rating="red")
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    async with signed_in(stack, "coordinator") as coordinator:
        form = await coordinator.get("/requests/new")
        invalid = await coordinator.post(
            "/requests/new", data={"csrf_token": csrf_of(form), "subject_name": ""}
        )
        assert invalid.status_code == 422
        assert len(error_ids(invalid.text)) >= 3
        for page in (form, invalid, await coordinator.get("/requests")):
            assert problems(page.text) == [], page.url
    async with signed_in(stack, "worker") as worker:
        page = await worker.get(f"/tasks/{task}")
        refused = await worker.post(
            f"/tasks/{task}",
            data={"csrf_token": csrf_of(page), "action": "assess_purpose", "note": "x"},
        )
        assert refused.status_code == 422
        assert "purpose_clear-error" in error_ids(refused.text)
        inbox = await worker.get("/tasks")
        for shown_page in (page, refused, inbox):
            assert problems(shown_page.text) == [], shown_page.url
    async with signed_in(stack, "recipient") as recipient:
        assert problems((await recipient.get("/packages")).text) == []
