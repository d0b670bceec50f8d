"""Resolving consent and giving advice one question a page, over real HTTP on the real
stack: seeking consent or recording why not, recording the answer (follow-up questions only
when relevant), the advisor's advice (the agreement to share without consent asked only
with a recommendation to share) and the review of an urgent share; refused answers keeping
what was typed; changing an answer from the check; a refusal at the check linked to its
question; what is recorded the same as the API's; only the task's own role and agency."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from domain.decision import TaskKind
from domain.events import AdviceGiven, ConsentNotSought, ConsentRecorded
from tests.api.a11y import error_ids, problems
from tests.api.stack import ASSESS, Stack
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

TYPED = "By phone with <b>Mum</b> & the social worker"


async def assessed(http: httpx.AsyncClient, stack: Stack, **changes: Any) -> str:
    """A request whose purpose is assessed (confidential: consent is asked); its id."""
    rid = await open_request(http, stack, **changes)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    assert (await act(http, stack.people["worker"], task, ASSESS)).status_code == 200
    return rid


async def _walk(
    page: httpx.AsyncClient, base: str, answers: list[tuple[str, dict[str, Any]]]
) -> str:
    url = str((await page.get(base)).headers["location"])
    for slug, data in answers:
        assert url == f"{base}/{slug}", (url, slug)
        url = await answer_page(page, url, data)
    return url


async def _record(page: httpx.AsyncClient, base: str) -> httpx.Response:
    check = await page.get(f"{base}/check")
    assert check.status_code == 200, check.text
    assert problems(check.text) == []
    return await page.post(f"{base}/check", data={"csrf_token": csrf_of(check)})


async def consent_records(stack: Stack, rid: str) -> list[ConsentRecorded]:
    events = await stack.store.read_correlation(uuid.UUID(rid))
    return [r.event for r in events if isinstance(r.event, ConsentRecorded)]


async def test_seeking_consent_then_recording_it_given_one_question_a_page(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await assessed(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.RESOLVE_CONSENT)
    async with signed_in(stack, "worker") as worker:
        start = await worker.get(f"/tasks/{task}")
        assert f'href="/tasks/{task}/seek-consent"' in start.text
        assert f'href="/tasks/{task}/not-seeking"' in start.text
        assert 'name="reason"' not in start.text  # the questions are on their pages
        assert problems(start.text) == []
        base = f"/tasks/{task}/seek-consent"
        url = await _walk(worker, base, [("how", {"note": TYPED})])
        assert url == f"{base}/check"
        check = await worker.get(url)
        assert "&lt;b&gt;Mum&lt;/b&gt;" in check.text and "<b>Mum</b>" not in check.text
        done = await _record(worker, base)
        assert done.status_code == 303
        assert done.headers["location"] == f"/tasks/{task}/done?step=seek_consent"
        panel = await worker.get(done.headers["location"])
        assert "Consent is being sought" in panel.text
        again = await worker.get(base)
        assert again.status_code == 409  # sought: not asked again

    state = await stack.requests.decision(uuid.UUID(rid), stack.holder)
    assert state.consent_sought_at is not None and state.consent is None

    task = await stack.task_id(rid, stack.holder, TaskKind.RESOLVE_CONSENT)
    base = f"/tasks/{task}/consent-answer"
    async with signed_in(stack, "worker") as worker:
        start = await worker.get(f"/tasks/{task}")
        assert f'href="{base}"' in start.text and "Record the answer" in start.text
        first = await worker.get(base)
        assert first.headers["location"] == f"{base}/outcome"
        url = await answer_page(worker, f"{base}/outcome", {"outcome": "given"})
        assert url == f"{base}/given-by"
        # Nothing chosen: refused at the question, the GOV.UK way.
        page = await worker.get(url)
        blank = await worker.post(url, data={"csrf_token": csrf_of(page)})
        assert blank.status_code == 422 and summary_links(blank.text) == ["#given_by"]
        assert error_ids(blank.text) == {"given_by-error"} and problems(blank.text) == []
        url = await answer_page(worker, url, {"given_by": "parent_or_carer"})
        assert url == f"{base}/capacity"
        url = await answer_page(worker, url, {"capacity_considered": "true"})
        assert url == f"{base}/scope"
        long = "x" * 10_001
        page = await worker.get(url)
        refused = await worker.post(url, data={"csrf_token": csrf_of(page), "scope": long})
        assert refused.status_code == 422 and field_value(refused.text, "scope") == long
        url = await answer_page(worker, url, {"scope": "Police may see the incident log"})
        assert url == f"{base}/notes"
        url = await answer_page(worker, url, {"note": TYPED})
        assert url == f"{base}/check"
        check = await worker.get(url)
        for shown in ("Consent given", "Parent or carer", "Police may see the incident log"):
            assert shown in check.text, shown
        assert f'href="{base}/why-not?change=true"' not in check.text  # not asked

        # Could not be obtained after all: only its follow-up is asked, then the check.
        change = await worker.get(f"{base}/outcome?change=true")
        assert checked(change.text, "outcome") == {"given"}
        moved = await worker.post(
            f"{base}/outcome?change=true",
            data={"csrf_token": csrf_of(change), "outcome": "could_not_be_obtained"},
        )
        assert moved.headers["location"] == f"{base}/why-not?change=true"
        url = await answer_page(
            worker, f"{base}/why-not?change=true", {"could_not_obtain_reason": "no_contact"}
        )
        assert url == f"{base}/check"
        check = await worker.get(url)
        assert "Parent or carer" not in check.text and "No contact" in check.text
        # Given, as first answered: the answers to its questions were kept.
        change = await worker.get(f"{base}/outcome?change=true")
        back = await worker.post(
            f"{base}/outcome?change=true", data={"csrf_token": csrf_of(change), "outcome": "given"}
        )
        assert back.headers["location"] == f"{base}/check"
        done = await _record(worker, base)
        assert done.headers["location"] == f"/tasks/{task}/done?step=record_consent"

    (recorded,) = await consent_records(stack, rid)
    consent = recorded.consent
    assert consent.outcome == "given" and consent.given_by == "parent_or_carer"
    assert consent.capacity_considered is True
    assert consent.could_not_obtain_reason is None  # the answer no longer asked is not sent
    assert consent.scope is not None and consent.note is not None  # sealed


async def test_not_seeking_consent_refused_at_the_check_is_linked_to_its_question(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await assessed(http, stack)  # about a child
    task = await stack.task_id(rid, stack.holder, TaskKind.RESOLVE_CONSENT)
    base = f"/tasks/{task}/not-seeking"
    async with signed_in(stack, "worker") as worker:
        # A risk to an adult, and nobody named: the child the request is about does not fit.
        url = await _walk(
            worker,
            base,
            [
                ("reason", {"reason": "risk_of_serious_harm_to_adult"}),
                ("protects", {"protects_relation": "", "protects_kind": ""}),
                ("explanation", {"explanation": TYPED}),
            ],
        )
        assert url == f"{base}/check"
        refused = await _record(worker, base)
        assert refused.status_code == 422, refused.text
        assert "This cannot be recorded yet" in refused.text
        assert summary_links(refused.text) == [f"{base}/protects?change=true"]
        assert "a risk to an adult needs the adult named".capitalize() in refused.text
        assert "&lt;b&gt;Mum&lt;/b&gt;" in refused.text  # the answers still there
        assert problems(refused.text) == []
        assert await consent_records(stack, rid) == []
        url = await answer_page(
            worker,
            f"{base}/protects?change=true",
            {"protects_relation": "parent_or_carer_of_subject", "protects_kind": "adult"},
        )
        assert url == f"{base}/check"
        done = await _record(worker, base)
        assert done.headers["location"] == f"/tasks/{task}/done?step=consent_not_sought"
        # Harmful delay needs nobody named: the question is not asked.
        other = await assessed(http, stack)
        other_task = await stack.task_id(other, stack.holder, TaskKind.RESOLVE_CONSENT)
        other_base = f"/tasks/{other_task}/not-seeking"
        url = await _walk(
            worker,
            other_base,
            [
                ("reason", {"reason": "harmful_delay_in_urgent_case"}),
                ("explanation", {"explanation": "Immediate risk"}),
            ],
        )
        assert url == f"{other_base}/check"
        done = await _record(worker, other_base)  # recorded, so no draft is left behind
        assert done.headers["location"] == f"/tasks/{other_task}/done?step=consent_not_sought"
        # At risk as a child, nobody chosen: the child the request is about.
        third = await assessed(http, stack)
        third_task = await stack.task_id(third, stack.holder, TaskKind.RESOLVE_CONSENT)
        third_base = f"/tasks/{third_task}/not-seeking"
        await _walk(
            worker,
            third_base,
            [
                ("reason", {"reason": "risk_of_significant_harm_to_child"}),
                ("protects", {"protects_relation": "", "protects_kind": "child"}),
                ("explanation", {"explanation": "Asking would alert the father"}),
            ],
        )
        done = await _record(worker, third_base)
        assert done.status_code == 303, done.text

    events = await stack.store.read_correlation(uuid.UUID(rid))
    (recorded,) = [r.event for r in events if isinstance(r.event, ConsentNotSought)]
    assert recorded.reason == "risk_of_serious_harm_to_adult"
    assert recorded.at_risk is not None and recorded.at_risk.kind == "adult"
    assert recorded.at_risk.relation == "parent_or_carer_of_subject"
    events = await stack.store.read_correlation(uuid.UUID(third))
    (subject,) = [r.event for r in events if isinstance(r.event, ConsentNotSought)]
    assert subject.at_risk is not None
    assert (subject.at_risk.relation, subject.at_risk.kind) == ("subject", "child")


async def asking_advice(http: httpx.AsyncClient, stack: Stack) -> str:
    rid = await assessed(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.RESOLVE_CONSENT)
    worker = stack.people["worker"]
    for body in (
        {"action": "seek_consent"},
        {"action": "record_consent", "outcome": "refused", "note": "Mother refused"},
        {"action": "request_advice", "question": "Is sharing without consent justified?"},
    ):
        done = await act(http, worker, task, body)
        assert done.status_code == 200, done.text
    return rid


ADVICE = [
    ("recommendation", {"recommendation": "share"}),
    ("agreement", {"agrees_to_share_without_consent": "true"}),
    ("capacity", {"capacity": "caldicott_guardian"}),
    ("position", {"position": "Named GP for safeguarding"}),
    ("advice", {"advice": "Risk of significant harm outweighs the refusal: share"}),
]


async def test_advice_one_question_a_page_the_agreement_only_with_sharing(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await asking_advice(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.GIVE_ADVICE)
    base = f"/tasks/{task}/advice"
    for who in ("worker", "other_advisor"):
        async with signed_in(stack, who) as other:
            assert (await other.get(base)).status_code == 403, who
            assert (await other.get(f"{base}/recommendation")).status_code == 403, who
    async with signed_in(stack, "advisor") as advisor:
        start = await advisor.get(f"/tasks/{task}")
        assert f'href="{base}"' in start.text and "Start your advice" in start.text
        assert 'name="recommendation"' not in start.text
        assert problems(start.text) == []
        # Not share: no agreement asked.
        url = await _walk(advisor, base, [("recommendation", {"recommendation": "not_share"})])
        assert url == f"{base}/capacity"
        change = await advisor.get(f"{base}/recommendation")
        assert checked(change.text, "recommendation") == {"not_share"}
        url = await answer_page(advisor, f"{base}/recommendation", {"recommendation": "share"})
        assert url == f"{base}/agreement"
        for slug, data in ADVICE[1:]:
            assert url == f"{base}/{slug}", (url, slug)
            url = await answer_page(advisor, url, data)
        assert url == f"{base}/check"
        check = await advisor.get(url)
        assert "Agrees to sharing without consent" in check.text
        assert "Caldicott guardian" in check.text
        done = await _record(advisor, base)
        assert done.headers["location"] == f"/tasks/{task}/done?step=give_advice"
        assert (await advisor.get(base)).status_code == 409  # given: not asked again

    events = await stack.store.read_correlation(uuid.UUID(rid))
    (given,) = [r.event for r in events if isinstance(r.event, AdviceGiven)]
    advice = given.advice
    assert advice.recommendation == "share" and advice.agrees_to_share_without_consent
    assert advice.capacity == "caldicott_guardian"
    assert advice.position == "Named GP for safeguarding"


async def test_an_urgent_share_is_reviewed_one_question_a_page(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await up_to_the_decision(http, stack, rid)  # consent not sought: harmful delay
    share = {
        "action": "record_decision",
        "outcome": "share",
        "reasons": "Immediate risk",
        "necessity": "Only the incident",
        "inform": {"will_inform": True},
        "urgent_override": "The child is at risk tonight",
    }
    done = await act(http, stack.people["worker"], task, share)
    assert done.status_code == 200, done.text
    task = await stack.task_id(rid, stack.holder, TaskKind.REVIEW_URGENT_SHARE)
    base = f"/tasks/{task}/advice"
    async with signed_in(stack, "advisor") as advisor:
        start = await advisor.get(f"/tasks/{task}")
        assert "The urgent share" in start.text and f'href="{base}"' in start.text
        first = await advisor.get(f"{base}/recommendation")
        assert "was that right?" in first.text
        url = await _walk(advisor, base, ADVICE)
        assert url == f"{base}/check"
        done = await _record(advisor, base)
        assert done.headers["location"] == f"/tasks/{task}/done?step=give_advice"
    state = await stack.requests.decision(uuid.UUID(rid), stack.holder)
    assert not state.review_pending


async def test_the_whole_forms_still_complete_the_steps(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """API parity: POST /tasks/{id} with a whole form, refused with every value kept."""
    rid = await assessed(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.RESOLVE_CONSENT)
    async with signed_in(stack, "worker") as worker:
        page = await worker.get(f"/tasks/{task}")
        refused = await worker.post(
            f"/tasks/{task}",
            data={
                "csrf_token": csrf_of(page),
                "action": "consent_not_sought",
                "explanation": TYPED,
            },
        )
        assert refused.status_code == 422
        assert summary_links(refused.text) == ["#reason"]
        assert field_value(refused.text, "explanation") == TYPED  # the whole form, as typed
        done = await worker.post(
            f"/tasks/{task}", data={"csrf_token": csrf_of(page), "action": "seek_consent"}
        )
        assert done.status_code == 303
    state = await stack.requests.decision(uuid.UUID(rid), stack.holder)
    assert state.consent_sought_at is not None
