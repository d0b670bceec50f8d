"""Consent withdrawn, from the pages, over real HTTP on the real stack: the link where consent
is shown as given, the form (who, the day as day / month / year with the future refused,
what it covers, a note), its refusals with every typed value kept and the GOV.UK error
summary, the check of the answers, and the record made by the API's own use case, with
what follows (the basis cleared before the decision; the recipient told after it). Only a
worker of the deciding agency may see or post any of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.decision import TaskKind
from domain.events import ConsentWithdrawn
from infra.packages import Outbox
from tests.api.a11y import error_ids, problems
from tests.api.stack import ASSESS, Stack
from tests.api.test_consent_withdrawal import consent_given, shared_and_acknowledged
from tests.api.test_requests_flow import ITEMS, act
from tests.pages.walk import (
    checked,
    csrf_of,
    field_value,
    open_request,
    signed_in,
    summary_links,
)

NOTE = "Told us by phone: <b>Mum</b> & dad agree"


def form_url(rid: str, agency: str, part: str = "") -> str:
    base = f"/requests/{rid}/agencies/{agency}/consent-withdrawal"
    return f"{base}/{part}" if part else base


def answers(page: httpx.Response, on: datetime, **changes: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "csrf_token": csrf_of(page),
        "withdrawn_by": "parent_or_carer",
        "withdrawn_on-day": str(on.day),
        "withdrawn_on-month": str(on.month),
        "withdrawn_on-year": str(on.year),
        "covers": "part",
        "scope": "Only the school's records",
        "note": NOTE,
    }
    data.update(changes)
    return data


async def withdrawals(stack: Stack, rid: str) -> list[ConsentWithdrawn]:
    recorded = await stack.store.read_correlation(uuid.UUID(rid))
    return [r.event for r in recorded if isinstance(r.event, ConsentWithdrawn)]


async def basis_and_items(http: httpx.AsyncClient, stack: Stack, rid: str) -> str:
    worker, agency = stack.people["worker"], stack.holder
    task = await stack.task_id(rid, agency, TaskKind.RECORD_DECISION)
    for body in (
        {
            "action": "determine_lawful_basis",
            "art6": "public_task",
            "legal_power": "Children Act 2004 s.11",
        },
        {"action": "select_information", "items": ITEMS},
    ):
        assert (await act(http, worker, task, body)).status_code == 200
    return await stack.task_id(rid, agency, TaskKind.RECORD_DECISION)


async def test_before_the_decision_the_form_refuses_in_place_then_records_and_asks_again(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await consent_given(http, stack)
    task = await basis_and_items(http, stack, rid)
    agency = stack.holder
    url = form_url(rid, agency)
    today = datetime.now(UTC)
    async with signed_in(stack, "worker") as worker:
        page = await worker.get(f"/tasks/{task}")
        assert page.status_code == 200, page.text
        assert f'href="{url}">Record that consent was withdrawn</a>' in page.text
        form = await worker.get(url)
        assert form.status_code == 200, form.text
        assert "Consent was given by parent or carer" in form.text
        assert problems(form.text) == []

        # The form's own refusals: a day ahead, a part with nothing said, no one chosen.
        ahead = today + timedelta(days=2)
        refused = await worker.post(url, data=answers(form, ahead, withdrawn_by="", scope="  "))
        assert refused.status_code == 422, refused.text
        html = refused.text
        assert "<title>Error: Record that consent was withdrawn" in html
        assert summary_links(html) == ["#withdrawn_by", "#withdrawn_on", "#scope"]
        assert "The day consent was withdrawn must be today or in the past" in html
        assert "Enter what the withdrawal covers" in html
        assert field_value(html, "note") == NOTE and "<b>Mum</b>" not in html
        assert field_value(html, "withdrawn_on-day") == str(ahead.day)
        assert field_value(html, "withdrawn_on-year") == str(ahead.year)
        assert checked(html, "covers") == {"part"}
        assert error_ids(html) >= {"withdrawn_by-error", "withdrawn_on-error", "scope-error"}
        assert problems(html) == []
        not_a_day = await worker.post(
            url, data=answers(form, today, **{"withdrawn_on-month": "13"})
        )
        assert not_a_day.status_code == 422
        assert "The day consent was withdrawn must be a real date" in not_a_day.text

        # The domain's refusal (a day before consent was given) comes back on the form.
        before = today - timedelta(days=3)
        kept = await worker.post(url, data=answers(form, before))
        assert kept.status_code == 303 and kept.headers["location"] == form_url(
            rid, agency, "check"
        )
        check = await worker.get(form_url(rid, agency, "check"))
        assert check.status_code == 200, check.text
        refused = await worker.post(
            form_url(rid, agency, "check"), data={"csrf_token": csrf_of(check)}
        )
        assert refused.status_code == 422, refused.text
        assert summary_links(refused.text) == ["#withdrawn_on"]
        assert "Consent cannot be withdrawn before it was given" in refused.text
        assert field_value(refused.text, "note") == NOTE  # the answers kept
        assert await withdrawals(stack, rid) == []

        # Corrected, checked, recorded.
        kept = await worker.post(url, data=answers(form, today))
        assert kept.status_code == 303
        check = await worker.get(form_url(rid, agency, "check"))
        for shown in (
            "Check your answers before recording the withdrawal",
            "Parent or carer",
            f"{today.day} {today.strftime('%B %Y')}",
            "Only the school&#39;s records",
            "Told us by phone: &lt;b&gt;Mum&lt;/b&gt; &amp; dad agree",
            "the lawful basis you chose is cleared",
            f'href="{url}#withdrawn_on"',
        ):
            assert shown in check.text, shown
        assert problems(check.text) == []
        done = await worker.post(
            form_url(rid, agency, "check"), data={"csrf_token": csrf_of(check)}
        )
        assert done.status_code == 303 and done.headers["location"] == form_url(rid, agency, "done")
        panel = await worker.get(form_url(rid, agency, "done"))
        assert panel.status_code == 200, panel.text
        assert "govuk-panel--confirmation" in panel.text
        assert "Consent withdrawal recorded" in panel.text
        assert "The lawful basis has been cleared" in panel.text
        assert "Record decision</a>" in panel.text  # decide again
        again = await worker.get(url)
        assert again.status_code == 409  # only once
        task = await stack.task_id(rid, agency, TaskKind.RECORD_DECISION)
        decide = await worker.get(f"/tasks/{task}")
        assert "Consent was withdrawn by parent or carer on" in decide.text
        assert "Record that consent was withdrawn</a>" not in decide.text

    (event,) = await withdrawals(stack, rid)
    assert event.withdrawal.withdrawn_by == "parent_or_carer"
    assert event.withdrawal.withdrawn_on == today.date()
    assert event.withdrawal.scope is not None and event.note is not None  # sealed, not clear
    assert event.withdrawal.recorded_by == str(stack.people["worker"].user_id)
    state = await stack.requests.decision(uuid.UUID(rid), agency)
    assert state.consent is not None and state.consent.outcome == "withdrawn"
    assert state.lawful_basis is None


async def test_only_a_worker_of_the_deciding_agency_may_record_it(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await consent_given(http, stack)
    url = form_url(rid, stack.holder)
    today = datetime.now(UTC)
    async with signed_in(stack, "worker") as worker:
        form = await worker.get(url)
        token = csrf_of(form)
    for who in ("other_worker", "advisor", "recipient", "coordinator"):
        async with signed_in(stack, who) as other:
            seen = await other.get(url)
            assert seen.status_code == 403, who
            own = await other.get("/tasks" if who != "coordinator" else "/requests")
            posted = await other.post(url, data=answers(own, today))
            assert posted.status_code == 403, who
            recorded = await other.post(
                form_url(rid, stack.holder, "check"), data={"csrf_token": csrf_of(own)}
            )
            assert recorded.status_code == 403, who
    assert token and await withdrawals(stack, rid) == []
    # Consent that was not given cannot be withdrawn: the page says so.
    async with signed_in(stack, "worker") as worker:
        other_rid = await consent_not_given(http, stack)
        refused = await worker.get(form_url(other_rid, stack.holder))
        assert refused.status_code == 409
        assert "consent was not given for this decision" in refused.text


async def test_what_was_typed_is_kept_for_signing_in_again(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    """The session-timeout hook (POST /drafts) keeps the form, sealed under the request's
    subject, for its worker only; the form shows it once."""
    rid = await consent_given(http, stack)
    url = form_url(rid, stack.holder)
    today = datetime.now(UTC)
    async with signed_in(stack, "other_worker") as other:
        own = await other.get("/tasks")
        refused = await other.post("/drafts", data={**answers(own, today), "draft_path": url})
        assert refused.status_code == 403
    async with signed_in(stack, "worker") as worker:
        form = await worker.get(url)
        kept = await worker.post("/drafts", data={**answers(form, today), "draft_path": url})
        assert kept.status_code == 204, kept.text
        again = await worker.get(url)
        assert "has been restored" in again.text
        assert field_value(again.text, "note") == NOTE
        assert field_value(again.text, "withdrawn_on-day") == str(today.day)
        assert checked(again.text, "withdrawn_by") == {"parent_or_carer"}
        assert checked(again.text, "covers") == {"part"}
        once = await worker.get(url)
        assert "has been restored" not in once.text and field_value(once.text, "note") == ""


async def consent_not_given(http: httpx.AsyncClient, stack: Stack) -> str:
    rid = await open_request(http, stack)
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    assert (await act(http, worker, task, ASSESS)).status_code == 200
    return rid


async def test_after_the_share_the_recipient_is_told_and_the_package_page_links_the_form(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await consent_given(http, stack)
    task = await basis_and_items(http, stack, rid)
    package_id = await shared_and_acknowledged(http, stack, rid, task)
    agency = stack.holder

    url = form_url(rid, agency)
    today = datetime.now(UTC)
    async with signed_in(stack, "worker") as page:
        sent = await page.get(f"/packages/{package_id}")
        assert f'href="{url}">Record that consent was withdrawn</a>' in sent.text
        form = await page.get(url)
        assert form.status_code == 200, form.text
        assert "is told at once that consent was withdrawn" in form.text
        kept = await page.post(url, data=answers(form, today, covers="all", scope=""))
        assert kept.status_code == 303
        check = await page.get(form_url(rid, agency, "check"))
        assert "All of the consent" in check.text
        assert "Children&#39;s social care is told at once" in check.text
        done = await page.post(form_url(rid, agency, "check"), data={"csrf_token": csrf_of(check)})
        assert done.status_code == 303, done.text
        panel = await page.get(form_url(rid, agency, "done"))
        assert "Children&#39;s social care has been told that consent was withdrawn" in panel.text
        again = await page.get(url)  # the decision's workflow has ended; the log says it
        assert again.status_code == 409 and "already been recorded as withdrawn" in again.text

    (event,) = await withdrawals(stack, rid)
    assert event.package_sent and event.withdrawal.scope is None
    notes = await Outbox(stack.store.engine).for_request(uuid.UUID(rid))
    assert [n.agency for n in notes if n.kind == "consent_withdrawn"] == [stack.requester]
