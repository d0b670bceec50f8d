"""A request's timeline for the people who follow it (the coordinator first): each
agency's steps and outcomes, the reasons for a not-share, missed deadlines and
escalations, in the order they were recorded, read from the event log.

Each step reads as the compliance history's plain sentence (:mod:`app.summaries`: enums,
ids and dates only, nothing sealed is opened), with underscores as spaces, people by
name instead of id, and any time in it (a due time) on the hub's clock as the step's own
time is, never in UTC beside it. Views of personal data are left out: they are the compliance
officer's concern (the history page). Pure but for the one read of the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from uuid import UUID

from app.record_words import named
from app.summaries import summarise
from app.timetext import local_time
from domain.events import (
    AgencyDecisionCompleted,
    DeadlineMissed,
    DecisionRecorded,
    Escalated,
    RecordedEvent,
    RequestClosed,
    RequestWithdrawn,
)
from domain.events.access import AccessRefused, PersonalDataViewed
from domain.frozen import Frozen
from infra.eventstore import EventStore, TamperedEvent

_HIDDEN = (PersonalDataViewed, AccessRefused)
_WORD_BREAK = re.compile(r"(?<=[a-z])(?=[A-Z])")
_UTC_TIME = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}) UTC\b")
"""A time as :mod:`app.summaries` writes it ("2026-12-05 14:05 UTC")."""


def on_hub_clock(sentence: str, zone: str) -> str:
    """``sentence`` with each UTC time in it on the hub's clock ("Sat 5 Dec 2026, 14:05 GMT")."""

    def local(m: re.Match[str]) -> str:
        instant = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        return local_time(instant, zone)

    return _UTC_TIME.sub(local, sentence)


class Step(Frozen):
    """One line of the timeline."""

    when: datetime
    agency: str | None
    """The agency's name (or code, if the register has no name for it); None: the hub."""
    title: str
    """What happened, after the agency's name: "Police: Purpose assessed"."""
    detail: str
    by: str | None
    """Who recorded it, by name and role; None: the system (a timer, the workflow)."""
    flag: str | None = None
    """A word for the step's weight, shown as a tag: "Late", "Escalated", "Shared"..."""
    colour: str | None = None
    """The tag's GOV.UK colour (red, orange, green, grey); the word carries the meaning."""


class Timeline(Frozen):
    steps: list[Step]
    readable: bool = True
    """False when the log of this request failed its integrity check: nothing is shown."""


def _flag(r: RecordedEvent) -> tuple[str | None, str | None]:
    e = r.event
    if isinstance(e, DeadlineMissed):
        return "Deadline missed", "red"
    if isinstance(e, Escalated):
        return "Escalated", "orange"
    if isinstance(e, DecisionRecorded):
        return ("Shared", "green") if e.record.outcome.value == "share" else ("Not shared", "grey")
    if isinstance(e, AgencyDecisionCompleted) and not e.on_time:
        return "Late", "red"
    if isinstance(e, RequestWithdrawn):
        return "Withdrawn", "grey"
    if isinstance(e, RequestClosed):
        return "Closed", "grey"
    return None, None


def _title(r: RecordedEvent) -> str:
    name = _WORD_BREAK.sub(" ", type(r.event).__name__)
    return name[:1] + name[1:].lower()


def _person(actor_id: str | None, role: str | None, people: Mapping[str, str]) -> str | None:
    if not actor_id or (actor_id not in people and role in (None, "system")):
        return None  # a timer or the workflow itself
    name = people.get(actor_id, actor_id)  # the id where the directory has no name for it
    return f"{name} ({role.replace('_', ' ')})" if role else name


def steps_of(
    recorded: Iterable[RecordedEvent],
    agencies: Mapping[str, str],
    people: Mapping[str, str],
    zone: str,
) -> list[Step]:
    """The timeline of ``recorded`` (one request's events, in order): ``agencies`` maps a
    code to its name, ``people`` a user id to the person's display name; times in the
    sentences are on the clock of ``zone`` (the hub's)."""
    out: list[Step] = []
    for r in recorded:
        if isinstance(r.event, _HIDDEN):
            continue
        code: str | None = getattr(r.event, "agency", None)
        detail = summarise(r.event)
        if code and detail.startswith(f"{code}: "):
            detail = detail[len(code) + 2 :]
        detail = on_hub_clock(named(detail, people, agencies), zone)
        title = _title(r)
        if detail.lower().startswith(f"{title.lower()}: "):
            detail = detail[len(title) + 2 :]
        flag, colour = _flag(r)
        m = r.metadata
        agency = agencies.get(code, code) if code else None
        out.append(
            Step(
                when=r.recorded_at,
                agency=agency,
                title=f"{agency}: {title}" if agency else title,
                detail=detail.replace("_", " "),
                by=_person(m.actor_id, m.actor_role, people),
                flag=flag,
                colour=colour,
            )
        )
    return out


async def request_timeline(
    store: EventStore,
    request_id: UUID,
    agencies: Mapping[str, str],
    people: Mapping[str, str],
    zone: str,
) -> Timeline:
    """The request's timeline from the log; an unreadable (tampered) log shows nothing."""
    try:
        recorded = await store.read_correlation(request_id)
    except TamperedEvent:
        return Timeline(steps=[], readable=False)
    return Timeline(steps=steps_of(recorded, agencies, people, zone))
