"""Assessing the purpose one question a page, over real HTTP on the real stack: each page,
a follow-up asked only when relevant, a refused answer keeping what was typed, changing an
answer from the check, a refusal at the check linked to its question, and the recorded
assessment the same as the API's."""

from __future__ import annotations

import uuid

import httpx

from domain.decision import TaskKind
from domain.events import PurposeAssessed
from tests.api.a11y import error_ids, problems
from tests.api.stack import Stack
from tests.api.test_requests_flow import act
from tests.pages.walk import (
    answer_page,
    checked,
    csrf_of,
    field_value,
    open_request,
    signed_in,
    summary_links,
    up_to_the_decision,
)

TYPED = "Seen by the school nurse <b>twice</b> & the GP"
CITATION = "Children Act 1989 s.47"


async def assessed(stack: Stack, rid: str) -> PurposeAssessed:
    events = await stack.store.read_correlation(uuid.UUID(rid))
    (event,) = [r.event for r in events if isinstance(r.event, PurposeAssessed)]
    return event


ANSWERS: list[tuple[str, dict[str, str]]] = [
    ("purpose", {"purpose_clear": "true"}),
    ("identifiable", {"identifiable": "true"}),
    ("confidential", {"confidential": "true"}),
    ("special-category", {"special_category": "true"}),
    ("adult-at-risk", {"adult_at_risk": "false"}),
    ("offence-data", {"criminal_offence_data": "true"}),
    ("duty-or-order", {"compelled_kind": "statutory_duty"}),
    ("citation", {"compelled_citation": CITATION}),  # asked because a duty applies
    ("notes", {"note": TYPED}),
]


async def _answer_all(worker: httpx.AsyncClient, base: str, **changed: str | None) -> str:
    """Every question answered as ``ANSWERS`` has it, but for the fields ``changed`` (to
    that answer; ``None``: not asked); where the last answer leads."""
    url = f"{base}/purpose"
    for _, data in ANSWERS:
        ((name, value),) = data.items()
        if name in changed:
            if changed[name] is None:
                continue
            value = str(changed[name])
        url = await answer_page(worker, url, {name: value})
    return url


async def test_the_assessment_one_question_a_page_records_what_the_api_would(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    by_page = await open_request(http, stack)
    by_api = await open_request(http, stack)
    task = await stack.task_id(by_page, stack.holder, TaskKind.ASSESS_PURPOSE)
    base = f"/tasks/{task}/purpose"
    async with signed_in(stack, "worker") as worker:
        start = await worker.get(f"/tasks/{task}")
        assert f'href="{base}"' in start.text and "Start the assessment" in start.text
        assert 'name="purpose_clear"' not in start.text  # the questions are on their pages
        assert problems(start.text) == []
        first = await worker.get(base)
        assert first.headers["location"] == f"{base}/purpose"
        # Nothing chosen: refused at the question, in the GOV.UK pattern.
        page = await worker.get(f"{base}/purpose")
        assert f'href="/tasks/{task}"' in page.text  # the first question goes back to the task
        blank = await worker.post(f"{base}/purpose", data={"csrf_token": csrf_of(page)})
        assert blank.status_code == 422 and summary_links(blank.text) == ["#purpose_clear"]
        assert error_ids(blank.text) == {"purpose_clear-error"}
        assert "Select yes if there is a clear and legitimate purpose" in blank.text
        assert "<title>Error: " in blank.text and problems(blank.text) == []

        url = f"{base}/purpose"
        for slug, data in ANSWERS:
            assert url == f"{base}/{slug}", (url, slug)
            if slug == "citation":  # too long: refused, and what was typed is still there
                form = await worker.get(url)
                assert f'href="{base}/duty-or-order"' in form.text  # back to the question before
                long = CITATION + " and" + " more" * 40
                refused = await worker.post(
                    url, data={"csrf_token": csrf_of(form), "compelled_citation": long}
                )
                assert refused.status_code == 422
                assert field_value(refused.text, "compelled_citation") == long
                assert summary_links(refused.text) == ["#compelled_citation"]
                assert "This must be 160 characters or fewer" in refused.text
                assert problems(refused.text) == []
            url = await answer_page(worker, url, data)
        assert url == f"{base}/check"

        # Leaving and coming back: the task page offers to continue, the draft kept.
        again = await worker.get(f"/tasks/{task}")
        assert "Continue the assessment" in again.text
        assert (await worker.get(base)).headers["location"] == f"{base}/check"

        check = await worker.get(url)
        assert check.status_code == 200 and problems(check.text) == []
        assert CITATION in check.text and "&lt;b&gt;twice&lt;/b&gt;" in check.text
        for slug, _ in ANSWERS:
            assert f'href="{base}/{slug}?change=true"' in check.text, slug
        # Change an answer from the check: the answer shown, then back to the check.
        change = await worker.get(f"{base}/adult-at-risk?change=true")
        assert checked(change.text, "adult_at_risk") == {"false"}
        assert f'href="{base}/check"' in change.text  # back goes to the check too
        changed = await worker.post(
            f"{base}/adult-at-risk?change=true",
            data={"csrf_token": csrf_of(change), "adult_at_risk": "true"},
        )
        assert changed.headers["location"] == f"{base}/check"
        # No duty or order after all: the citation is no longer asked (nor sent)...
        none = await worker.post(
            f"{base}/duty-or-order?change=true",
            data={"csrf_token": csrf_of(change), "compelled_kind": "none"},
        )
        assert none.headers["location"] == f"{base}/check"
        check = await worker.get(url)
        assert CITATION not in check.text and f"{base}/citation" not in check.text
        assert (await worker.get(f"{base}/citation")).status_code == 404
        # ...and a court order after all: asked again, keeping what was typed before.
        order = await worker.post(
            f"{base}/duty-or-order?change=true",
            data={"csrf_token": csrf_of(change), "compelled_kind": "court_order"},
        )
        assert order.headers["location"] == f"{base}/check"
        assert CITATION in (await worker.get(url)).text

        check = await worker.get(url)
        recorded = await worker.post(url, data={"csrf_token": csrf_of(check)})
        assert recorded.status_code == 303, recorded.text
        assert recorded.headers["location"] == f"/tasks/{task}/done?step=assess_purpose"
        done = await worker.get(recorded.headers["location"])
        assert "govuk-panel--confirmation" in done.text and "Purpose assessed" in done.text
        late = await worker.get(f"{base}/purpose")  # recorded: not asked again
        assert late.status_code == 409 and "cannot be changed" in late.text

    api_task = await stack.task_id(by_api, stack.holder, TaskKind.ASSESS_PURPOSE)
    body = {
        "action": "assess_purpose",
        "purpose_clear": True,
        "identifiable": True,
        "confidential": True,
        "special_category": True,
        "adult_at_risk": True,
        "criminal_offence_data": True,
        "compelled": {"kind": "court_order", "citation": CITATION},
        "note": TYPED,
    }
    answered = await act(http, stack.people["worker"], api_task, body)
    assert answered.status_code == 200, answered.text
    mine, theirs = await assessed(stack, by_page), await assessed(stack, by_api)
    same = (
        "purpose_clear",
        "legitimate",
        "identifiable",
        "confidential",
        "special_category",
        "adult_at_risk",
        "criminal_offence_data",
        "compelled_by",
        "assessed_by",
    )
    for name in same:
        assert getattr(mine, name) == getattr(theirs, name), name
    assert mine.compelled_by is not None and mine.compelled_by.citation == CITATION
    keyring = stack.requests.keyring
    assert mine.note is not None and theirs.note is not None
    assert await keyring.open(mine.note) == await keyring.open(theirs.note) == TYPED


async def test_a_refused_assessment_comes_back_to_the_check_linked_to_its_question(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    base = f"/tasks/{task}/purpose"
    async with signed_in(stack, "worker") as worker:
        url = await _answer_all(worker, base, compelled_citation="s1")  # not the step's
        check = await worker.get(url)
        refused = await worker.post(url, data={"csrf_token": csrf_of(check)})
        assert refused.status_code == 422, refused.text
        assert "The assessment cannot be recorded yet" in refused.text
        assert "This must be at least 3 characters" in refused.text
        assert summary_links(refused.text) == [f"{base}/citation?change=true"]
        assert "&lt;b&gt;twice&lt;/b&gt;" in refused.text  # every answer still there
        assert problems(refused.text) == []
        page = await worker.get(f"{base}/citation?change=true")
        assert field_value(page.text, "compelled_citation") == "s1"
        fixed = await worker.post(
            f"{base}/citation?change=true",
            data={"csrf_token": csrf_of(page), "compelled_citation": CITATION},
        )
        assert fixed.headers["location"] == f"{base}/check"
        check = await worker.get(f"{base}/check")
        recorded = await worker.post(f"{base}/check", data={"csrf_token": csrf_of(check)})
        assert recorded.status_code == 303, recorded.text
    event = await assessed(stack, rid)
    assert event.compelled_by is not None and event.compelled_by.citation == CITATION


async def test_only_the_tasks_own_worker_and_kind_reach_the_questions(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    async with signed_in(stack, "other_worker") as other:  # another agency's worker
        assert (await other.get(f"/tasks/{task}/purpose/purpose")).status_code == 403
    async with signed_in(stack, "advisor") as advisor:  # the agency's advisor: not theirs
        assert (await advisor.get(f"/tasks/{task}/purpose/purpose")).status_code == 403
    async with signed_in(stack, "worker") as worker:
        assert (await worker.get(f"/tasks/{task}/decision/outcome")).status_code == 404
        assert (await worker.get(f"/tasks/{task}/no-such-flow")).status_code == 404
        assert (await worker.get(f"/tasks/{task}/purpose/no-such-question")).status_code == 404


async def test_a_changed_answer_that_needs_a_follow_up_asks_it_then_returns_to_the_check(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    base = f"/tasks/{task}/purpose"
    async with signed_in(stack, "worker") as worker:
        url = await _answer_all(worker, base, compelled_kind="none", compelled_citation=None)
        assert url == f"{base}/check"
        change = await worker.get(f"{base}/duty-or-order?change=true")
        duty = await worker.post(
            f"{base}/duty-or-order?change=true",
            data={"csrf_token": csrf_of(change), "compelled_kind": "statutory_duty"},
        )
        assert duty.headers["location"] == f"{base}/citation?change=true"
        asked = await worker.get(duty.headers["location"])
        assert f'href="{base}/check"' in asked.text and problems(asked.text) == []
        cited = await worker.post(
            f"{base}/citation?change=true",
            data={"csrf_token": csrf_of(asked), "compelled_citation": CITATION},
        )
        assert cited.headers["location"] == f"{base}/check"
        check = await worker.get(f"{base}/check")
        assert CITATION in check.text
        recorded = await worker.post(f"{base}/check", data={"csrf_token": csrf_of(check)})
        assert recorded.status_code == 303, recorded.text
    event = await assessed(stack, rid)
    assert event.compelled_by is not None and event.compelled_by.kind == "statutory_duty"


async def test_an_answer_the_page_does_not_offer_is_refused_and_not_kept(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """A page sent by hand with an answer its radios do not offer (``yes`` for ``true``) is
    refused at that question, in words, and nothing of it reaches the draft; a decision's
    checkboxes likewise."""
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    base = f"/tasks/{task}/purpose"
    async with signed_in(stack, "worker") as worker:
        for slug, name, value in (
            ("purpose", "purpose_clear", "yes"),
            ("duty-or-order", "compelled_kind", "act_of_parliament"),
        ):
            page = await worker.get(f"{base}/{slug}")
            sent = await worker.post(
                f"{base}/{slug}", data={"csrf_token": csrf_of(page), name: value}
            )
            assert sent.status_code == 422, (slug, sent.text)
            assert summary_links(sent.text) == [f"#{name}"]
            assert "Select " in sent.text and problems(sent.text) == []
        # Nothing was kept: the flow starts again at its first question.
        assert (await worker.get(base)).headers["location"] == f"{base}/purpose"
        assert await _answer_all(worker, base) == f"{base}/check"

    decision = await up_to_the_decision(http, stack, await open_request(http, stack))
    async with signed_in(stack, "worker") as worker:
        url = await answer_page(
            worker, f"/tasks/{decision}/decision/outcome", {"outcome": "not_share"}
        )
        url = await answer_page(worker, url, {"reasons": "Not needed"})
        page = await worker.get(url)
        assert url.endswith("/not-share")
        sent = await worker.post(
            url,
            data={
                "csrf_token": csrf_of(page),
                "not_share_reasons": ["information_not_held", "whim"],
            },
        )
        assert sent.status_code == 422 and summary_links(sent.text) == ["#not_share_reasons"]
