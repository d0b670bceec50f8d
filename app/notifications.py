"""Notifications that reach people: what each kind says, and e-mailing them.

Every notification is listed in the app (``/notifications``, with a count in each
page's header). Those that ask someone to act now are e-mailed too (``EMAILED``):
deadline warnings and breaches, advice requested, a package delivered, an urgent
share to review. A message holds no personal data and nothing typed by anyone: the
kind of event, the agency code, the rating-free deadline on the hub's clock, and a
link to the notifications page, where a signed-in person follows it to the rest.

:class:`Mailer` plans a delivery for each person a notification is for (with an
address set), then sends what is due, recording each attempt; a failure is retried
with growing waits (``infra.notifications.RETRY_BACKOFF``) and then marked failed.
Each (notification, person) is e-mailed once: the delivery row's key makes planning
idempotent, and a message's ``Message-ID`` is made from that key, so a resend after a
crash mid-batch is recognisable as the same message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import structlog

from app.timetext import local_time
from domain.permissions import Action, roles_for
from domain.vocabulary import Role
from infra.mail import MailError, SmtpSender
from infra.notifications import RETRY_BACKOFF, Delivery, DeliveryQueue
from infra.packages import Notification

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Wording:
    title: str
    """A short line: the list's heading and the e-mail's subject."""
    says: str
    """One sentence; ``{agency}`` is the agency code."""


WORDING: dict[str, Wording] = {
    "deadline_warning": Wording(
        "A deadline is near", "A step {agency} is waiting on is close to its deadline."
    ),
    "deadline_breach": Wording(
        "A deadline was missed",
        "A step {agency} was waiting on has passed its deadline; the request stays open.",
    ),
    "advice_requested": Wording("Advice requested", "A worker at {agency} asks for your advice."),
    "package_delivered": Wording(
        "A package was delivered", "Information was delivered to {agency} to open."
    ),
    "review_urgent": Wording(
        "An urgent share to review",
        "{agency} shared without waiting for advice; review the decision.",
    ),
    "consent_withdrawn": Wording(
        "Consent was withdrawn",
        "Consent behind information {agency} received has been withdrawn: stop any further "
        "use that relied on it and review what you hold.",
    ),
    "decision_recorded": Wording("A decision was recorded", "An agency recorded its decision."),
    "request_opened": Wording("A request was opened", "A new request may need your agency."),
    "request_closed": Wording("A request closed", "Every agency has finished with a request."),
    "retention_review_opened": Wording(
        "A retention review is due", "A record is due for its retention review."
    ),
    "retention_review_overdue": Wording(
        "A retention review is overdue", "A record's retention review has passed its due date."
    ),
}
EMAILED = frozenset(
    {
        "deadline_warning",
        "deadline_breach",
        "advice_requested",
        "package_delivered",
        "review_urgent",
        "consent_withdrawn",
    }
)


def wording(note: Notification) -> tuple[str, str]:
    """(title, sentence) for a notification; an unknown kind reads as its code."""
    found = WORDING.get(note.kind)
    agency = note.agency or "the hub"
    if found is None:
        return note.kind.replace("_", " ").capitalize(), ""
    return found.title, found.says.format(agency=agency)


def link(note: Notification, role: Role | str) -> str:
    """Where a person of ``role`` acts on a notification (a path), as the permission matrix
    says what the role does: the packages for those who receive them, the inbox for those
    who work tasks, the request's page for the hub."""
    if note.kind.startswith("retention_"):
        return "/retention"
    if Role(role) in roles_for(Action.RECEIVE_PACKAGE):
        return "/packages"
    if Role(role) in roles_for(Action.WORK_TASKS):
        return "/tasks"
    return f"/requests/{note.request_id}"


def message(note: Notification, to: str, sender: str, base_url: str, zone: str) -> EmailMessage:
    """The e-mail for one notification: its title, one sentence, the deadline and a link."""
    title, says = wording(note)
    lines = [says]
    if note.due_at is not None:
        lines.append(f"It is due {local_time(note.due_at, zone)}.")
    lines += [
        "",
        f"Sign in to see it: {base_url}/notifications",
        "",
        "This message holds no details of the request. Do not reply to it.",
    ]
    msg = EmailMessage()
    msg["Subject"] = f"mashflow: {title}"
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(note.created_at.astimezone(UTC))
    msg["Message-ID"] = f"<{note.notification_id}.{_recipient_tag(to)}@mashflow>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content("\n".join(lines))
    return msg


def _recipient_tag(address: str) -> str:
    """A stable tag for the Message-ID that does not show the address."""
    return hashlib.sha256(address.lower().encode()).hexdigest()[:16]


class Mailer:
    """Plans and sends notification e-mails until stopped."""

    def __init__(
        self,
        queue: DeliveryQueue,
        sender: SmtpSender,
        *,
        base_url: str,
        zone: str,
        batch: int = 50,
        lease: timedelta = timedelta(minutes=2),
        poll_interval: float = 5.0,
    ) -> None:
        self.queue = queue
        self.sender = sender
        self.base_url = base_url
        self.zone = zone
        self.batch = batch
        self.lease = lease
        self.poll_interval = poll_interval
        self._stopping = asyncio.Event()

    async def deliver_due(self, now: datetime | None = None) -> tuple[int, int]:
        """Plan new deliveries and send every one due by ``now``; (sent, failed)."""
        now = now or datetime.now(UTC)
        await self.queue.plan(EMAILED, now)
        sent = failed = 0
        while True:
            due = await self.queue.claim(now, self.lease, self.batch)
            if not due:
                return sent, failed
            results = await self.sender.send([self._message(d) for d in due])
            for d, result in zip(due, results, strict=True):
                if result is None:
                    await self.queue.sent(d, datetime.now(UTC))
                    sent += 1
                else:
                    await self._failed(d, result, now)
                    failed += 1
            if len(due) < self.batch:
                return sent, failed

    def _message(self, d: Delivery) -> EmailMessage:
        return message(d.notification, d.email, self.sender.sender, self.base_url, self.zone)

    async def _failed(self, d: Delivery, error: MailError, now: datetime) -> None:
        retry = now + RETRY_BACKOFF[d.attempts] if d.attempts < len(RETRY_BACKOFF) else None
        await self.queue.failed(d, error.reason, retry)
        log.warning(
            "notification_email_failed",
            notification_id=str(d.notification.notification_id),
            kind=d.notification.kind,
            attempt=d.attempts + 1,
            error=error.reason,
            gave_up=retry is None,
        )

    async def run(self) -> None:
        """Deliver every ``poll_interval`` until :meth:`stop`; a failed round is logged."""
        self._stopping.clear()
        while not self._stopping.is_set():
            try:
                sent, failed = await self.deliver_due()
                if sent or failed:
                    log.info("notification_emails", sent=sent, failed=failed)
            except Exception:
                log.exception("notification_emails_round_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_interval)

    def stop(self) -> None:
        self._stopping.set()
