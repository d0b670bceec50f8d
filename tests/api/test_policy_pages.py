"""The hub policy over real HTTP: the new-request page says which clock each rating's
deadline runs on, and a request opened through the API records the policy in force."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from domain.events import RequestOpened
from infra.policy_file import load_policy
from tests.api.stack import Stack
from tests.api.test_requests_flow import open_request, signed_in


async def test_the_new_request_page_says_which_clock_each_deadline_runs_on(
    stack: Stack,
) -> None:
    async with signed_in(stack, "coordinator") as coordinator:
        page = await coordinator.get("/requests/new")
    assert page.status_code == 200
    assert "Decision due within 4 hours, around the clock" in page.text
    assert "Decision due within 24 working hours (about three working days)" in page.text
    assert "Decision due within 72 working hours (about nine working days)" in page.text
    assert "09:00 to 17:00, Monday to Friday, Europe/London time" in page.text
    assert 'name="allegation_against_staff"' in page.text


async def test_a_request_records_the_policy_in_force_and_its_allegation_mark(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack, allegation_against_staff=True)
    for _ in range(100):
        recorded = await stack.store.read_correlation(uuid.UUID(rid))
        if recorded:
            break
        await asyncio.sleep(0.1)
    opening = recorded[0].event
    assert isinstance(opening, RequestOpened)
    assert opening.allegation_against_staff is True
    assert opening.policy == load_policy(None)  # the API read the shipped defaults
    assert opening.policy_digest == load_policy(None).digest()
