"""Consent withdrawn, over real HTTP on the real stack: before the decision the share on
that consent is refused and the basis is asked again; after the package was sent and the
decision completed, the recipient agency is notified and the record shows the withdrawal,
by whom and when, with people named from the register."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx

from domain.decision import TaskKind
from domain.events import ConsentWithdrawn
from infra.packages import Outbox
from tests.api.stack import ASSESS, Stack
from tests.api.test_requests_flow import (
    ITEMS,
    act,
    delivered_package,
    open_request,
    revealed_record,
    steps,
)

PUBLIC_TASK = {
    "action": "determine_lawful_basis",
    "art6": "public_task",
    "legal_power": "Children Act 2004 s.11",
}
SELECTED = {"action": "select_information", "items": ITEMS}
SHARED = {
    "action": "record_decision",
    "outcome": "share",
    "reasons": "Relevant to the strategy discussion",
    "necessity": "Only the incident",
    "inform": {"will_inform": True},
}


def withdrawal(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "withdrawn_by": "parent_or_carer",
        "withdrawn_on": datetime.now(UTC).date().isoformat(),
        "scope": "All of it",
    }
    body.update(changes)
    return body


async def consent_given(http: httpx.AsyncClient, stack: Stack) -> str:
    rid = await open_request(http, stack)
    worker, agency = stack.people["worker"], stack.holder
    task = await stack.task_id(rid, agency, TaskKind.ASSESS_PURPOSE)
    assert (await act(http, worker, task, ASSESS)).status_code == 200
    task = await stack.task_id(rid, agency, TaskKind.RESOLVE_CONSENT)
    await steps(
        http,
        worker,
        task,
        {"action": "seek_consent"},
        {
            "action": "record_consent",
            "outcome": "given",
            "given_by": "parent_or_carer",
            "capacity_considered": True,
            "scope": "Police may see the incident log",
        },
    )
    return rid


async def shared_and_acknowledged(
    http: httpx.AsyncClient, stack: Stack, rid: str, decision_task: str
) -> str:
    """The decision recorded as a share, the person told, the package delivered and
    acknowledged by the recipient, and the decision's workflow ended; the package's id."""
    worker, agency = stack.people["worker"], stack.holder
    assert (await act(http, worker, decision_task, SHARED)).status_code == 200
    task = await stack.task_id(rid, agency, TaskKind.INFORM_PERSON)
    told = await act(http, worker, task, {"action": "record_informing", "informed": True})
    assert told.status_code == 200, told.text
    package_id = await delivered_package(http, stack, rid)
    recipient = stack.people["recipient"]
    opened = await http.get(f"/api/packages/{package_id}", headers=recipient.headers)
    ack = await http.post(
        f"/api/packages/{package_id}/acknowledge",
        json={"sha256": opened.json()["sha256"]},
        headers=recipient.headers,
    )
    assert ack.status_code == 200, ack.text
    for _ in range(100):  # the decision's workflow ends after the acknowledgement
        state = await stack.requests.decision(uuid.UUID(rid), agency)
        if state.completed_at is not None:
            break
        await asyncio.sleep(0.1)
    assert state.completed_at is not None
    return package_id


async def test_withdrawal_before_the_decision_stops_the_share_on_that_consent(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await consent_given(http, stack)
    worker, agency = stack.people["worker"], stack.holder
    task = await stack.task_id(rid, agency, TaskKind.RECORD_DECISION)
    await steps(http, worker, task, PUBLIC_TASK, SELECTED)
    url = f"/api/requests/{rid}/agencies/{agency}/consent-withdrawal"
    refused = await http.post(url, json=withdrawal(), headers=stack.people["recipient"].headers)
    assert refused.status_code == 403, refused.text
    ahead = await http.post(url, json=withdrawal(withdrawn_on="2999-01-01"), headers=worker.headers)
    assert ahead.status_code == 422, ahead.text
    done = await http.post(url, json=withdrawal(), headers=worker.headers)
    assert done.status_code == 200, done.text
    state = await stack.requests.decision(uuid.UUID(rid), agency)
    assert state.consent is not None and state.consent.outcome == "withdrawn"
    assert state.lawful_basis is None  # asked again
    task = await stack.task_id(rid, agency, TaskKind.RECORD_DECISION)
    blocked = await act(http, worker, task, SHARED)
    assert blocked.status_code in (409, 422), blocked.text
    twice = await http.post(url, json=withdrawal(), headers=worker.headers)
    assert twice.status_code == 409, twice.text


async def test_withdrawal_after_the_share_completed_tells_the_recipient(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await consent_given(http, stack)
    worker, agency = stack.people["worker"], stack.holder
    task = await stack.task_id(rid, agency, TaskKind.RECORD_DECISION)
    await steps(http, worker, task, PUBLIC_TASK, SELECTED)
    await shared_and_acknowledged(http, stack, rid, task)

    url = f"/api/requests/{rid}/agencies/{agency}/consent-withdrawal"
    done = await http.post(url, json=withdrawal(), headers=worker.headers)
    assert done.status_code == 200, done.text
    recorded = [r.event for r in await stack.store.read_correlation(uuid.UUID(rid))]
    (event,) = [e for e in recorded if isinstance(e, ConsentWithdrawn)]
    assert event.package_sent and event.withdrawal.withdrawn_on == date.today()
    notes = await Outbox(stack.store.engine).for_request(uuid.UUID(rid))
    told_recipient = [n for n in notes if n.kind == "consent_withdrawn"]
    assert [n.agency for n in told_recipient] == [stack.requester]

    history = await http.get(
        f"/api/requests/{rid}/history", headers=stack.people["compliance"].headers
    )
    assert any(
        e["summary"].startswith(f"{agency}: consent withdrawn by parent_or_carer")
        and "the recipient is told" in e["summary"]
        for e in history.json()["events"]
    )
    page = await revealed_record(http, stack, rid)
    for words in (
        "Consent withdrawn (after the decision)",
        "by parent or carer",
        "Flow worker",  # the decider's display name from the register
        "Person told",
    ):
        assert words in page, words
