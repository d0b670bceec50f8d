"""Queries on the read models: request lists, one request's progress, inboxes, response times.

The read side of the one application layer (commands are in ``app.requests``).
Reads ``rm_*`` tables kept by ``infra.readmodels``; they hold ids, agency
codes, enums and instants, never personal data, so nothing here needs a key.
Authorisation is the caller's: these answer what they are asked.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.decision import TaskKind
from domain.models import Actor
from domain.permissions import Action, allows

_URGENCY = "CASE rating WHEN 'red' THEN 0 WHEN 'amber' THEN 1 ELSE 2 END"

_AWAITED = (
    "(r.status = 'open' AND EXISTS ("
    "SELECT 1 FROM rm_agency_decisions d WHERE d.request_id = r.request_id "
    "AND d.decided_at IS NULL AND d.status <> 'withdrawn'))"
)
"""Open, with an agency still to decide: the request has a deadline that counts."""
_OVERDUE = f"({_AWAITED} AND r.decision_due_at < :now)"

ListOrder = Literal["urgency", "newest"]
_ORDER: dict[str, str] = {
    # Overdue first (the longest overdue first), then the least time left; requests with
    # nothing awaited after them, newest first.
    "urgency": f"CASE WHEN {_AWAITED} THEN r.decision_due_at END ASC NULLS LAST, "
    "r.opened_at DESC, r.request_id",
    "newest": "r.opened_at DESC, r.request_id",
}


class AgencyRow(BaseModel):
    """One holding agency's progress on one request."""

    agency: str
    status: str
    """awaiting_decision | decided | completed | withdrawn"""
    outcome: str | None
    decided_at: datetime | None
    completed_at: datetime | None
    decision_due_at: datetime
    missed: list[str]
    on_time: bool | None
    """Whether the decision came by its deadline; None until decided."""
    not_share_reasons: list[str] = []
    """A decision not to share: its structured reasons, which the requester is told."""


class RequestSummary(BaseModel):
    request_id: UUID
    subject_id: UUID
    requesting_agency: str
    rating: str
    status: str
    """open | closed | withdrawn"""
    opened_at: datetime
    decision_due_at: datetime
    closed_at: datetime | None
    agencies: list[AgencyRow]

    def overdue(self, now: datetime) -> bool:
        """Open, past the decision deadline, with an agency still to decide."""
        return (
            self.status == "open"
            and now > self.decision_due_at
            and any(a.decided_at is None and a.status != "withdrawn" for a in self.agencies)
        )

    def time_left(self, now: datetime) -> timedelta | None:
        """Until the decision deadline (negative once past it); None once the request ended
        or every agency has decided."""
        if self.status != "open" or all(
            a.decided_at is not None or a.status == "withdrawn" for a in self.agencies
        ):
            return None
        return self.decision_due_at - now


class InboxTask(BaseModel):
    task_id: str
    """``{request_id}:{holding agency}:{kind}:{version}``: the update id of the step."""
    request_id: UUID
    agency: str
    """The agency whose people act (for an acknowledgement, the recipient agency)."""
    kind: str
    role: str
    due_at: datetime | None
    rating: str
    version: int


class AgencyResponseTimes(BaseModel):
    """How one agency answers requests: the hubs' commonest complaint is late partners."""

    agency: str
    asked: int
    """Decisions asked of it (withdrawn ones excluded)."""
    answered: int
    on_time: int
    late: int
    overdue_now: int
    """Not yet answered, and past the deadline."""
    waiting: int
    """Not yet answered, still within the deadline."""
    missed_deadlines: int
    """Recorded missed deadlines of any kind (decision, consent, advice, acknowledgement)."""
    mean_hours_to_decide: float | None


class Queries:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def list_requests(
        self,
        *,
        status: str | None = None,
        rating: str | None = None,
        agency: str | None = None,
        overdue: bool | None = None,
        now: datetime,
        order: ListOrder = "urgency",
        limit: int = 200,
    ) -> list[RequestSummary]:
        """Requests, most urgent first (overdue, then by time left; those with nothing
        awaited last, newest first), or newest first. ``agency`` keeps those it is
        requester or holder of."""
        where = ["TRUE"]
        params: dict[str, Any] = {"now": now, "limit": limit}
        if status is not None:
            where.append("r.status = :status")
            params["status"] = status
        if rating is not None:
            where.append("r.rating = :rating")
            params["rating"] = rating
        if agency is not None:
            where.append("(r.requesting_agency = :agency OR :agency = ANY(r.holders))")
            params["agency"] = agency
        if overdue is not None:
            where.append(_OVERDUE if overdue else f"NOT {_OVERDUE}")
        sql = (
            "SELECT r.* FROM rm_requests r WHERE "  # noqa: S608 - fixed fragments only
            + " AND ".join(where)
            + f" ORDER BY {_ORDER[order]} LIMIT :limit"
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(text(sql), params)).mappings().all()
            agencies = await self._agencies(conn, [r["request_id"] for r in rows])
        return [_summary(r, agencies[r["request_id"]]) for r in rows]

    async def request_ids_starting(self, prefix: str, limit: int = 2) -> list[UUID]:
        """Request ids that start with ``prefix`` (hex digits and hyphens, as the pages and
        lists show a short id), at most ``limit``."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT request_id FROM rm_requests WHERE CAST(request_id AS text) "
                    "LIKE :prefix ORDER BY request_id LIMIT :limit"
                ),
                {"prefix": prefix.lower() + "%", "limit": limit},
            )
            return [r.request_id for r in rows]

    async def get_request(self, request_id: UUID) -> RequestSummary | None:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        text("SELECT * FROM rm_requests WHERE request_id = :r"), {"r": request_id}
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            agencies = await self._agencies(conn, [request_id])
        return _summary(row, agencies[request_id])

    async def inbox(
        self, actor: Actor, now: datetime, *, limit: int | None = None, offset: int = 0
    ) -> list[InboxTask]:
        """The actor's open tasks, most urgent first (red first, then the nearest deadline);
        a page of ``limit`` from ``offset`` when asked (the order is total: ties end on
        the task id).

        Workers and advisors see their agency's tasks for their role; recipients see
        acknowledgements of packages delivered to their agency; others have no inbox.
        """
        works = allows(actor, Action.WORK_TASKS)
        if not (works or allows(actor, Action.RECEIVE_PACKAGE)):
            return []
        params: dict[str, Any] = {"agency": actor.agency, "role": str(actor.role)}
        where = "agency = :agency AND role = :role"
        if not works:  # a recipient: the acknowledgements of packages delivered
            where += " AND kind = :kind"
            params["kind"] = str(TaskKind.ACKNOWLEDGE_RECEIPT)
        sql = (
            "SELECT task_id, request_id, agency, kind, role, due_at, rating, version "  # noqa: S608
            f"FROM rm_tasks WHERE {where} ORDER BY {_URGENCY}, due_at NULLS LAST, task_id"
        )
        if limit is not None:
            sql += " LIMIT :limit OFFSET :offset"
            params |= {"limit": limit, "offset": offset}
        async with self.engine.connect() as conn:
            rows = (await conn.execute(text(sql), params)).mappings().all()
        return [InboxTask.model_validate(dict(r)) for r in rows]

    async def agency_response_times(self, now: datetime) -> list[AgencyResponseTimes]:
        """Per holding agency: answered, on time, late, overdue now, waiting."""
        sql = """
            SELECT d.agency,
                   count(*) AS asked,
                   count(d.decided_at) AS answered,
                   count(*) FILTER (WHERE d.on_time) AS on_time,
                   count(*) FILTER (WHERE d.on_time = false) AS late,
                   count(*) FILTER (WHERE d.decided_at IS NULL AND d.decision_due_at < :now)
                       AS overdue_now,
                   count(*) FILTER (WHERE d.decided_at IS NULL AND d.decision_due_at >= :now)
                       AS waiting,
                   coalesce(sum(cardinality(d.missed)), 0) AS missed_deadlines,
                   avg(extract(epoch FROM d.decided_at - r.opened_at)) / 3600.0
                       AS mean_hours_to_decide
            FROM rm_agency_decisions d JOIN rm_requests r USING (request_id)
            WHERE d.status <> 'withdrawn'
              AND (d.decided_at IS NOT NULL OR r.status = 'open')
            GROUP BY d.agency
            ORDER BY d.agency
        """
        async with self.engine.connect() as conn:
            rows = (await conn.execute(text(sql), {"now": now})).mappings().all()
        return [
            AgencyResponseTimes.model_validate(
                dict(r)
                | {
                    "mean_hours_to_decide": (
                        None
                        if r["mean_hours_to_decide"] is None
                        else round(float(r["mean_hours_to_decide"]), 2)
                    )
                }
            )
            for r in rows
        ]

    async def _agencies(self, conn: Any, ids: list[UUID]) -> dict[UUID, list[AgencyRow]]:
        out: dict[UUID, list[AgencyRow]] = defaultdict(list)
        if not ids:
            return out
        rows = (
            (
                await conn.execute(
                    text(
                        "SELECT request_id, agency, status, outcome, decided_at, completed_at, "
                        "decision_due_at, missed, on_time, ARRAY(SELECT "
                        "jsonb_array_elements_text(state->'decision'->'not_share_reasons')) "
                        "AS not_share_reasons FROM rm_agency_decisions "
                        "WHERE request_id = ANY(:ids) ORDER BY request_id, agency"
                    ),
                    {"ids": ids},
                )
            )
            .mappings()
            .all()
        )
        for r in rows:
            out[r["request_id"]].append(AgencyRow.model_validate(dict(r)))
        return out


def _summary(row: RowMapping, agencies: list[AgencyRow]) -> RequestSummary:
    return RequestSummary(
        request_id=row["request_id"],
        subject_id=row["subject_id"],
        requesting_agency=row["requesting_agency"],
        rating=row["rating"],
        status=row["status"],
        opened_at=row["opened_at"],
        decision_due_at=row["decision_due_at"],
        closed_at=row["closed_at"],
        agencies=agencies,
    )
