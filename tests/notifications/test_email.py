"""Escalations reach people: a missed red deadline is e-mailed (through a real SMTP
server) to the agency's advisor and the hub's coordinator, with no personal data, only a
link; a failed attempt is recorded and retried; a second round sends nothing twice; the
same notifications are listed in the app with a count in the header."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from app.container import Infrastructure
from app.notifications import EMAILED, Mailer
from app.scenario_builder import Hub, open_request, policy_in_seconds
from domain.vocabulary import AgencyKind, Rating, Role
from infra.mail import SmtpSender
from infra.notifications import DeliveryQueue, NotificationInbox
from infra.packages import Notification
from infra.settings import Settings
from infra.users import UserDirectory
from tests.api.a11y import problems
from tests.notifications.conftest import Inbox, free_port
from tests.workflows.conftest import hub_of, running_worker

SUBJECT_NAME = "Fay Unique-Example"


RED_IN_2S = policy_in_seconds((2, 600, 3600), (600, 600, 3600))


@pytest.fixture
async def hub(
    dev_server_env: WorkflowEnvironment, task_queue: str, infra: Infrastructure, settings: Settings
) -> AsyncIterator[Hub]:
    async with running_worker(dev_server_env.client, task_queue, infra, RED_IN_2S) as requests:
        yield hub_of(requests, infra, settings)


async def breach_of(infra: Infrastructure, rid: uuid.UUID) -> Notification:
    for _ in range(300):
        notes = await infra.outbox.for_request(rid)
        found = [n for n in notes if n.kind == "deadline_breach"]
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError("the missed deadline was not notified")


def mailer(infra: Infrastructure, settings: Settings, port: int) -> Mailer:
    own = settings.with_overrides(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_from="hub@example.org",
        public_url="https://hub.example.org/",
    )
    return Mailer(
        DeliveryQueue(infra.engine), SmtpSender(own), base_url=own.link_base, zone="Europe/London"
    )


def to(envelopes: list[Message], address: str) -> list[Message]:
    return [m for m in envelopes if m["To"] == address]


async def test_a_missed_red_deadline_is_emailed_once_with_only_a_link(
    hub: Hub,
    infra: Infrastructure,
    users: UserDirectory,
    settings: Settings,
    smtp: tuple[Inbox, int],
    client: httpx.AsyncClient,
) -> None:
    server, port = smtp
    code = f"police_{uuid.uuid4().hex[:8]}"
    await infra.agencies.add(code, "Police", AgencyKind.POLICE)
    advisor = await users.add("Mail advisor", Role.ADVISOR, code)
    coordinator = await users.add("Mail coordinator", Role.COORDINATOR, None)
    worker = await users.add("Mail worker", Role.AGENCY_WORKER, code)
    people = NotificationInbox(infra.engine)
    now = datetime.now(UTC)
    for person in (advisor, coordinator, worker):
        await people.set_email(person.user.id, f"{person.user.id}@example.org", now)

    rid, _ = await open_request(hub, SUBJECT_NAME, [code], Rating.RED)
    breach = await breach_of(infra, rid)
    queue = DeliveryQueue(infra.engine)

    # The SMTP server is down: the attempt is recorded and retried later, nothing lost.
    sent, failed = await mailer(infra, settings, free_port()).deliver_due()
    assert sent == 0 and failed >= 2
    statuses = {u: (s, n) for u, s, n in await queue.status(breach.notification_id)}
    assert statuses == {advisor.user.id: ("pending", 1), coordinator.user.id: ("pending", 1)}

    later = datetime.now(UTC) + timedelta(minutes=2)  # past the first retry's wait
    sent, _ = await mailer(infra, settings, port).deliver_due(later)
    assert sent >= 2
    messages = [message_from_bytes(e.original_content or b"") for e in server.received]
    for person in (advisor, coordinator):
        # Exactly one message for this breach (a slow runner may see a later deadline
        # of the same request missed as well: that is another notification, mailed apart).
        (mail,) = [
            m
            for m in to(messages, f"{person.user.id}@example.org")
            if m["Message-ID"].startswith(f"<{breach.notification_id}.")
        ]
        assert mail["Subject"] == "mashflow: A deadline was missed"
        body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert f"{code} was waiting on has passed its deadline" in body
        assert "Sign in to see it: https://hub.example.org/notifications" in body
    assert to(messages, f"{worker.user.id}@example.org") == []  # not for workers
    for m in messages:  # nothing about the person, in any message sent
        raw = m.as_string()
        assert "Fay" not in raw and "Unique-Example" not in raw and "2017" not in raw
    done = {u: s for u, s, _ in await queue.status(breach.notification_id)}
    assert done == {advisor.user.id: "sent", coordinator.user.id: "sent"}

    received = len(server.received)
    assert await mailer(infra, settings, port).deliver_due(later) == (0, 0)
    assert len(server.received) == received  # idempotent: nothing e-mailed twice

    # In the app: the same notification, and a count in the header until the list is opened.
    form = await client.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    signed = await client.post("/signin", data={"token": advisor.token, "csrf_token": csrf[1]})
    assert signed.status_code == 303
    home = await client.get("/")
    count = re.search(r'<span class="mf-count">(\d+)</span>', home.text)
    assert count is not None and int(count[1]) >= 1
    listed = await client.get("/notifications")
    assert "A deadline was missed" in listed.text and 'href="/tasks"' in listed.text
    assert problems(listed.text) == []
    assert 'class="mf-count"' not in (await client.get("/")).text
    as_json = await client.get(
        "/api/notifications", headers={"Authorization": f"Bearer {advisor.token}"}
    )
    kinds = {n["kind"] for n in as_json.json()["notifications"]}
    assert "deadline_breach" in kinds and as_json.json()["unseen"] == 0


async def test_an_address_that_is_not_an_email_is_refused_in_place(
    users: UserDirectory, client: httpx.AsyncClient, infra: Infrastructure
) -> None:
    person = await users.add("Address tester", Role.COORDINATOR, None)
    form = await client.get("/signin")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf
    await client.post("/signin", data={"token": person.token, "csrf_token": csrf[1]})
    page = await client.get("/notifications")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    refused = await client.post(
        "/notifications/email", data={"email": "not an address", "csrf_token": token[1]}
    )
    assert refused.status_code == 422
    assert 'value="not an address"' in refused.text  # what was typed is kept
    assert 'href="#email"' in refused.text and 'id="email-error"' in refused.text
    assert problems(refused.text) == []
    people = NotificationInbox(infra.engine)
    assert await people.email(person.user.id) is None  # nothing written
    saved = await client.post(
        "/notifications/email", data={"email": " me@agency.example.org ", "csrf_token": token[1]}
    )
    assert saved.status_code == 303
    assert await people.email(person.user.id) == "me@agency.example.org"


async def test_a_notification_older_than_the_horizon_stays_in_the_app_only(
    infra: Infrastructure, users: UserDirectory
) -> None:
    code = f"police_{uuid.uuid4().hex[:8]}"
    await infra.agencies.add(code, "Police", AgencyKind.POLICE)
    advisor = await users.add("Late advisor", Role.ADVISOR, code)
    now = datetime.now(UTC)
    await NotificationInbox(infra.engine).set_email(
        advisor.user.id, "late@example.org", now - timedelta(days=4)
    )
    old = Notification(
        notification_id=uuid.uuid4(),
        request_id=uuid.uuid4(),
        agency=code,
        audience_roles=["advisor"],
        kind="deadline_breach",
        due_at=now - timedelta(days=3, hours=1),
        created_at=now - timedelta(days=3),
    )
    assert await infra.outbox.put(old)
    queue = DeliveryQueue(infra.engine)
    await queue.plan(EMAILED, now)  # two days back: too old to e-mail
    assert await queue.status(old.notification_id) == []
    listed = await NotificationInbox(infra.engine).for_user(advisor.user.id)
    assert old.notification_id in {n.notification_id for n in listed}  # still in the app
    await queue.plan(EMAILED, now, horizon=timedelta(days=5))
    assert await queue.status(old.notification_id) == [(advisor.user.id, "pending", 0)]
