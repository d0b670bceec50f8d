"""Helpers for page tests: a signed-in browser-like client, and a decision's steps taken
through the API up to the decision itself."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import httpx

from domain.decision import TaskKind
from domain.events import DecisionRecorded
from tests.api.a11y import problems
from tests.api.stack import ASSESS, Stack
from tests.api.test_requests_flow import ITEMS, act, csrf_of, open_request, signed_in

__all__ = ["csrf_of", "open_request", "signed_in"]


async def up_to_the_decision(
    http: httpx.AsyncClient, stack: Stack, rid: str, *, items: bool = True
) -> str:
    """Purpose assessed, consent not sought (harmful delay), basis and items (unless not
    ``items``) recorded through the API: the record-decision task's id, with no advisor's
    agreement given."""
    worker = stack.people["worker"]
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    steps: list[tuple[TaskKind, dict[str, Any]]] = [
        (TaskKind.ASSESS_PURPOSE, ASSESS),
        (
            TaskKind.RESOLVE_CONSENT,
            {
                "action": "consent_not_sought",
                "reason": "harmful_delay_in_urgent_case",
                "explanation": "Immediate risk to the child",
            },
        ),
        (
            TaskKind.RECORD_DECISION,
            {
                "action": "determine_lawful_basis",
                "art6": "public_task",
                "legal_power": "Crime and Disorder Act 1998 s.115",
                "without_consent": "significant_harm_to_child",
            },
        ),
        (TaskKind.RECORD_DECISION, {"action": "select_information", "items": ITEMS[:1]}),
    ]
    if not items:
        steps.pop()
    for kind, body in steps:
        task = await stack.task_id(rid, stack.holder, kind)
        done = await act(http, worker, task, body)
        assert done.status_code == 200, done.text
    return await stack.task_id(rid, stack.holder, TaskKind.RECORD_DECISION)


async def answer_page(page: httpx.AsyncClient, url: str, data: dict[str, Any]) -> str:
    """One question page answered: shown (no accessibility problem, one heading, no
    hidden field but the form token: the answers so far live on the server), then
    ``data`` posted and accepted; where it leads."""
    form = await page.get(url)
    assert form.status_code == 200, (url, form.text)
    assert problems(form.text) == [], url
    assert form.text.count("<h1") == 1 or "govuk-fieldset__heading" in form.text
    hidden = re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]+)"', form.text)
    assert set(hidden) == {"csrf_token"}, (url, hidden)
    done = await page.post(url, data={"csrf_token": csrf_of(form), **data})
    assert done.status_code == 303, (url, done.text)
    return str(done.headers["location"])


async def recorded_decision(stack: Stack, rid: str) -> DecisionRecorded:
    events = await stack.store.read_correlation(uuid.UUID(rid))
    (decided,) = [r.event for r in events if isinstance(r.event, DecisionRecorded)]
    return decided


def field_value(page: str, name: str) -> str:
    """The value an input or textarea named ``name`` shows (unescaped)."""
    textarea = re.search(
        rf'<textarea[^>]* name="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.S
    )
    if textarea:
        return html.unescape(textarea.group(1))
    tag = re.search(rf'<input[^>]* name="{re.escape(name)}"[^>]*>', page)
    assert tag, f"no field {name!r}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def checked(page: str, name: str) -> set[str]:
    """The values of the checked radios or checkboxes named ``name``."""
    tags = re.findall(rf'<input[^>]* name="{re.escape(name)}"[^>]*>', page)
    return {
        html.unescape(m.group(1))
        for t in tags
        if " checked" in t and (m := re.search(r'value="([^"]*)"', t))
    }


def selected(page: str, name: str) -> str:
    block = re.search(rf'<select[^>]* name="{re.escape(name)}"[^>]*>(.*?)</select>', page, re.S)
    assert block, f"no select {name!r}"
    chosen = re.search(r'<option value="([^"]*)" selected>', block.group(1))
    return html.unescape(chosen.group(1)) if chosen else ""


def summary_links(page: str) -> list[str]:
    """The targets of the error summary's links, in order."""
    summary = page.split('class="govuk-error-summary"', 1)
    assert len(summary) == 2, "no error summary"
    body = summary[1].split("</ul>", 1)[0]
    return re.findall(r'<a href="([^"]+)"', body)
