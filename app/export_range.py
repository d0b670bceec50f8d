"""The audit export over a date range: every request opened in it, streamed a request at a time.

Each request is the one-request export of :mod:`app.history` (timeline, decision
records, access log, verification), so both read the same. Requests are found in
the read model (``rm_requests`` by ``opened_at``) after it has been caught up
with the log, so none opened in the range is missed; each is then replayed from
its own events. Nothing holds more than one request's history: the output is
produced as it is read (JSON, CSV or a printable HTML page). When personal data
is revealed, each request's view is appended to its access log before its data
is read, as for one request.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

import structlog
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from app.access import record_view
from app.export import CSV_COLUMNS, ExportFormat, csv_rows, export_templates, history_json
from app.history import RequestHistory, request_history
from domain.events.access import ViewKind
from domain.models import Actor
from infra.crypto import Keyring
from infra.eventstore import EventStore
from infra.readmodels import Projection

log = structlog.get_logger(__name__)

MAX_RANGE_DAYS = 366
"""The longest range one export covers: a year, leap day included."""
PAGE = 200
"""Request ids read from the read model at a time."""
RANGE_CSV_COLUMNS = ("request_id", *CSV_COLUMNS)


class InvalidRange(ValueError):  # noqa: N818 - reads as the verdict
    """The range asked for cannot be exported; names the parameter at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DateRange(BaseModel):
    """Whole days, both included, in UTC."""

    model_config = ConfigDict(frozen=True)

    first: date
    last: date

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def ends_before(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def parse_day(field: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRange(field, "give a date as YYYY-MM-DD, e.g. 2026-03-31") from None


def date_range(first: date, last: date) -> DateRange:
    """The range from ``first`` to ``last`` (both included), refused if inverted or too long."""
    if first > last:
        raise InvalidRange(
            "from", f"{first.isoformat()} is after the end of the range, {last.isoformat()}"
        )
    span = DateRange(first=first, last=last)
    if span.days > MAX_RANGE_DAYS:
        raise InvalidRange(
            "to",
            f"the range covers {span.days} days; one export covers at most "
            f"{MAX_RANGE_DAYS} (export a year at a time)",
        )
    return span


async def requests_opened(store: EventStore, span: DateRange) -> AsyncIterator[UUID]:
    """Every request opened in the range, oldest first (keyset pages of the read model)."""
    await Projection(store).catch_up()  # the read model holds every request of the log
    after: tuple[datetime, UUID] | None = None
    sql = (
        "SELECT request_id, opened_at FROM rm_requests "
        "WHERE opened_at >= :start AND opened_at < :end {more} "
        "ORDER BY opened_at, request_id LIMIT :page"
    )
    while True:
        params: dict[str, Any] = {
            "start": span.starts_at,
            "end": span.ends_before,
            "page": PAGE,
        }
        more = ""
        if after is not None:
            more = "AND (opened_at, request_id) > (:after_at, :after_id)"
            params |= {"after_at": after[0], "after_id": after[1]}
        async with store.engine.connect() as conn:
            rows = (await conn.execute(text(sql.format(more=more)), params)).all()
        for row in rows:
            yield row.request_id
        if len(rows) < PAGE:
            return
        after = (rows[-1].opened_at, rows[-1].request_id)


async def histories(
    store: EventStore,
    keyring: Keyring,
    span: DateRange,
    *,
    reveal: bool,
    viewer: Actor | None = None,
) -> AsyncIterator[RequestHistory]:
    """Each request of the range replayed, one at a time; a reveal is recorded first."""
    if reveal and viewer is None:
        raise ValueError("a reveal needs the viewer it is recorded against")
    count = 0
    async for request_id in requests_opened(store, span):
        if reveal and viewer is not None:
            await record_view(store, request_id, viewer, ViewKind.EXPORT)
        yield await request_history(store, keyring, request_id, reveal=reveal)
        count += 1
    log.info(
        "audit_range_exported",
        first=span.first.isoformat(),
        last=span.last.isoformat(),
        requests=count,
        revealed=reveal,
    )


async def export_chunks(
    found: AsyncIterator[RequestHistory],
    span: DateRange,
    fmt: ExportFormat | str,
    *,
    revealed: bool,
    zone: str,
) -> AsyncIterator[str]:
    """The export as text, a request at a time; times for people on the clock of ``zone``
    (the hub's), JSON's in UTC."""
    kind = ExportFormat(fmt)
    if kind is ExportFormat.JSON:
        async for chunk in _json_chunks(found, span, revealed):
            yield chunk
    elif kind is ExportFormat.CSV:
        async for chunk in _csv_chunks(found, zone):
            yield chunk
    else:
        async for chunk in _html_chunks(found, span, revealed, zone):
            yield chunk


async def _json_chunks(
    found: AsyncIterator[RequestHistory], span: DateRange, revealed: bool
) -> AsyncIterator[str]:
    head = {
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(),
        "revealed": revealed,
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "requests": [\n'
    count = 0
    async for history in found:
        yield ("" if count == 0 else ",\n") + json.dumps(history_json(history), ensure_ascii=False)
        count += 1
    yield f'\n], "count": {count}}}\n'


async def _csv_chunks(found: AsyncIterator[RequestHistory], zone: str) -> AsyncIterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RANGE_CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    async for history in found:
        rid = str(history.request_id)
        writer.writerows(
            {"request_id": rid, **row} for row in csv_rows(history, zone)
        )  # safe cells
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


async def _html_chunks(
    found: AsyncIterator[RequestHistory], span: DateRange, revealed: bool, zone: str
) -> AsyncIterator[str]:
    page = export_templates().get_template("audit_export_range.html").module
    yield str(page.begin(span, datetime.now(UTC), revealed, zone))  # type: ignore[attr-defined]
    count = 0
    async for history in found:
        yield str(page.section(history, zone))  # type: ignore[attr-defined]
        count += 1
    yield str(page.end(count))  # type: ignore[attr-defined]


def filename(span: DateRange, fmt: ExportFormat) -> str:
    return f"audit-{span.first.isoformat()}-to-{span.last.isoformat()}.{fmt.value}"
