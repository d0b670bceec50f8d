"""The read models: the request list, each agency's progress and the open tasks.

A projection of the event store, fed exactly once per event by a
:class:`~infra.eventstore.Subscription` named ``read_models``: each event is
applied with the same pure functions the workflows use (``evolve_request``,
``evolve``, ``open_tasks``), in the transaction that moves the checkpoint, so
the tables are always the fold of a prefix of the log. :func:`rebuild` empties
them and replays the whole log; the result equals the live tables.

Streams read: ``request:{id}`` (the request) and ``request:{id}:agency:{code}``
(one holding agency's decision). Every other stream (``access:``, system
streams) is skipped. A task's id is ``{request_id}:{holder}:{kind}:{version}``,
``holder`` being the holding agency whose decision workflow owns the task and
``version`` that agency stream's version after the event; an acknowledgement
task's ``agency`` is the recipient agency, whose people act on it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.decision import AgencyDecisionState, evolve, open_tasks, start
from domain.events import AgencyEvent, RecordedEvent, RequestEvent, RequestOpened
from domain.request import AgencyProgress, SharingRequestState, evolve_request, start_request
from infra.eventstore import EventStore, Subscription

log = structlog.get_logger(__name__)

PROJECTION = "read_models"
TABLES = ("rm_tasks", "rm_agency_decisions", "rm_requests")
"""Children first, so deleting in this order never trips a foreign key."""

Progress = Callable[[int, int], None]
"""Called with (events applied, events in the log) while rebuilding."""


# -- the handler ------------------------------------------------------------------------


def parse_stream(stream_id: str) -> tuple[UUID, str | None] | None:
    """``request:{id}`` -> (id, None); ``request:{id}:agency:{code}`` -> (id, code)."""
    parts = stream_id.split(":")
    if parts[0] != "request" or len(parts) not in (2, 4):
        return None
    if len(parts) == 4 and parts[2] != "agency":
        return None
    try:
        request_id = UUID(parts[1])
    except ValueError:
        return None
    return request_id, (parts[3] if len(parts) == 4 else None)


async def apply_event(conn: AsyncConnection, recorded: RecordedEvent) -> None:
    """Apply one recorded event to the read models (the subscription's handler)."""
    where = parse_stream(recorded.stream_id)
    event = recorded.event
    if where is None or not isinstance(event, RequestEvent):
        return
    request_id, stream_agency = where
    if isinstance(event, RequestOpened):
        await _opened(conn, event)
        return
    request = await _load_request(conn, request_id)
    if request is None:  # a stream without its opening: nothing to project onto
        log.warning("read_model_orphan_event", request_id=str(request_id))
        return
    updated = evolve_request(request, event)
    if updated is not request:
        await _save_request(conn, updated)
    if isinstance(event, AgencyEvent):
        version = recorded.version if stream_agency == event.agency else None
        await _apply_to_agency(conn, updated, event.agency, recorded, version)
    else:  # re-rating and withdrawal reach every agency's decision (as the signals do)
        for progress in updated.agencies:
            await _apply_to_agency(conn, updated, progress.agency, recorded, None)


async def _opened(conn: AsyncConnection, opened: RequestOpened) -> None:
    request = start_request(opened)
    await _save_request(conn, request, insert=True)
    for agency in opened.holding_agencies:
        state = start(opened, agency)
        await _save_agency(conn, request.progress(agency), state, 0, insert=True)
        await _save_tasks(conn, state, 0)


async def _apply_to_agency(
    conn: AsyncConnection,
    request: SharingRequestState,
    agency: str,
    recorded: RecordedEvent,
    version: int | None,
) -> None:
    row = (
        (
            await conn.execute(
                text(
                    "SELECT state, version FROM rm_agency_decisions "
                    "WHERE request_id = :r AND agency = :a"
                ),
                {"r": request.request_id, "a": agency},
            )
        )
        .mappings()
        .first()
    )
    if row is None or row["state"] is None:
        return
    state = AgencyDecisionState.model_validate(_json(row["state"]))
    new_state = evolve(state, recorded.event)
    new_version = int(row["version"]) if version is None else version
    progress = next((p for p in request.agencies if p.agency == agency), None)
    if progress is None:
        return
    await _save_agency(conn, progress, new_state, new_version)
    if new_state != state or new_version != int(row["version"]):
        await _save_tasks(conn, new_state, new_version)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def request_status(state: SharingRequestState) -> str:
    if state.withdrawn_at is not None:
        return "withdrawn"
    return "closed" if state.closed_at is not None else "open"


async def _load_request(conn: AsyncConnection, request_id: UUID) -> SharingRequestState | None:
    value = await conn.scalar(
        text("SELECT state FROM rm_requests WHERE request_id = :r"), {"r": request_id}
    )
    return None if value is None else SharingRequestState.model_validate(_json(value))


async def _save_request(
    conn: AsyncConnection, s: SharingRequestState, *, insert: bool = False
) -> None:
    params = {
        "request_id": s.request_id,
        "subject_id": s.subject_id,
        "requesting_agency": s.requesting_agency,
        "rating": str(s.rating),
        "status": request_status(s),
        "opened_at": s.opened_at,
        "decision_due_at": s.decision_due_at,
        "closed_at": s.closed_at,
        "withdrawn_at": s.withdrawn_at,
        "holders": [p.agency for p in s.agencies],
        "state": s.model_dump_json(),
    }
    if insert:
        sql = (
            "INSERT INTO rm_requests (request_id, subject_id, requesting_agency, rating, status, "
            "opened_at, decision_due_at, closed_at, withdrawn_at, holders, state) VALUES "
            "(:request_id, :subject_id, :requesting_agency, :rating, :status, :opened_at, "
            ":decision_due_at, :closed_at, :withdrawn_at, :holders, CAST(:state AS jsonb)) "
            "ON CONFLICT (request_id) DO NOTHING"
        )
    else:
        sql = (
            "UPDATE rm_requests SET rating = :rating, status = :status, "
            "decision_due_at = :decision_due_at, closed_at = :closed_at, "
            "withdrawn_at = :withdrawn_at, holders = :holders, state = CAST(:state AS jsonb) "
            "WHERE request_id = :request_id"
        )
    await conn.execute(text(sql), params)


def agency_status(progress: AgencyProgress, state: AgencyDecisionState) -> str:
    if state.withdrawn_at is not None and state.completed_at is None:
        return "withdrawn"
    return str(progress.status)


async def _save_agency(
    conn: AsyncConnection,
    progress: AgencyProgress,
    state: AgencyDecisionState,
    version: int,
    *,
    insert: bool = False,
) -> None:
    decided_at = state.decision.decided_at if state.decision is not None else None
    params = {
        "request_id": state.request_id,
        "agency": state.agency,
        "status": agency_status(progress, state),
        "outcome": str(state.decision.outcome) if state.decision is not None else None,
        "decided_at": decided_at,
        "completed_at": state.completed_at,
        "decision_due_at": state.decision_due_at,
        "missed": [str(k) for k in state.missed],
        "on_time": None if decided_at is None else decided_at <= state.decision_due_at,
        "version": version,
        "state": state.model_dump_json(),
    }
    if insert:
        sql = (
            "INSERT INTO rm_agency_decisions (request_id, agency, status, outcome, decided_at, "
            "completed_at, decision_due_at, missed, on_time, version, state) VALUES "
            "(:request_id, :agency, :status, :outcome, :decided_at, :completed_at, "
            ":decision_due_at, :missed, :on_time, :version, CAST(:state AS jsonb)) "
            "ON CONFLICT (request_id, agency) DO NOTHING"
        )
    else:
        sql = (
            "UPDATE rm_agency_decisions SET status = :status, outcome = :outcome, "
            "decided_at = :decided_at, completed_at = :completed_at, "
            "decision_due_at = :decision_due_at, missed = :missed, on_time = :on_time, "
            "version = :version, state = CAST(:state AS jsonb) "
            "WHERE request_id = :request_id AND agency = :agency"
        )
    await conn.execute(text(sql), params)


def task_id(request_id: UUID, holder: str, kind: str, version: int) -> str:
    return f"{request_id}:{holder}:{kind}:{version}"


async def _save_tasks(conn: AsyncConnection, state: AgencyDecisionState, version: int) -> None:
    """Replace the agency's open tasks with those of its new state."""
    await conn.execute(
        text("DELETE FROM rm_tasks WHERE request_id = :r AND holder = :h"),
        {"r": state.request_id, "h": state.agency},
    )
    rows = [
        {
            "task_id": task_id(state.request_id, state.agency, str(t.kind), version),
            "request_id": state.request_id,
            "holder": state.agency,
            "agency": t.agency,
            "kind": str(t.kind),
            "role": str(t.role),
            "due_at": t.due_at,
            "rating": str(state.rating),
            "version": version,
        }
        for t in open_tasks(state)
    ]
    if rows:
        await conn.execute(
            text(
                "INSERT INTO rm_tasks (task_id, request_id, holder, agency, kind, role, due_at, "
                "rating, version) VALUES (:task_id, :request_id, :holder, :agency, :kind, :role, "
                ":due_at, :rating, :version)"
            ),
            rows,
        )


# -- running and rebuilding ----------------------------------------------------------------


def subscription(store: EventStore, **options: Any) -> Subscription:
    return Subscription(store, PROJECTION, apply_event, **options)


class ProjectionRunner:
    """Keeps the read models live: follows the log until :meth:`stop`."""

    def __init__(self, store: EventStore, *, poll_interval: float = 0.2) -> None:
        self.subscription = subscription(store, poll_interval=poll_interval)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.retry_after_s = 5.0

    async def catch_up(self) -> int:
        """Apply every event available now; returns how many were applied."""
        return await self.subscription.catch_up()

    async def run(self) -> None:
        """Follow the log; a failed batch is rolled back, logged and retried after a pause."""
        while not self._stopping:
            try:
                await self.subscription.run()
            except Exception:
                log.exception("read_models_batch_failed")
                await asyncio.sleep(self.retry_after_s)

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="read_models")
        return self._task

    async def stop(self) -> None:
        """Let the current batch commit, then return (re-raising a failure of the loop)."""
        self._stopping = True
        self.subscription.stop()
        if self._task is not None:
            task, self._task = self._task, None
            await task


async def reset(engine: AsyncEngine) -> None:
    """Empty the read models and rewind their checkpoint, in one transaction.

    The checkpoint row is locked first, so a live runner finishes its batch before the
    tables empty and then starts again from the beginning with this rebuild.
    """
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO projection_checkpoints (name, position) VALUES (:n, 0) "
                "ON CONFLICT (name) DO UPDATE SET position = 0, updated_at = now()"
            ),
            {"n": PROJECTION},
        )
        for table in TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names


async def rebuild(store: EventStore, engine: AsyncEngine, progress: Progress | None = None) -> int:
    """Drop every read-model row and replay the whole log; returns the events applied."""
    async with engine.connect() as conn:
        total = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
    await reset(engine)
    done = 0

    async def counting(conn: AsyncConnection, recorded: RecordedEvent) -> None:
        nonlocal done
        await apply_event(conn, recorded)
        done += 1
        if progress is not None and done % 200 == 0:
            progress(done, max(total, done))

    replay = Subscription(store, PROJECTION, counting, batch_size=1000)
    applied = await replay.catch_up()
    if progress is not None:
        progress(done, max(total, done))
    log.info("read_models_rebuilt", events=applied)
    return applied


async def forget_request(conn: AsyncConnection, request_id: UUID) -> None:
    """For retention disposal: drop the stored decision states (ciphertext) of a request.

    The rows stay (progress, outcomes, deadlines); the states are no longer needed
    once a request is closed, since its decisions take no more events.
    """
    await conn.execute(
        text("UPDATE rm_agency_decisions SET state = NULL WHERE request_id = :r"),
        {"r": request_id},
    )


async def snapshot(engine: AsyncEngine) -> dict[str, list[RowMapping]]:
    """Every read-model row, in a stable order (for comparing live and rebuilt tables)."""
    keys = {
        "rm_requests": "request_id",
        "rm_agency_decisions": "request_id, agency",
        "rm_tasks": "task_id",
    }
    out: dict[str, list[RowMapping]] = {}
    async with engine.connect() as conn:
        for table, order in keys.items():
            result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))  # noqa: S608
            out[table] = list(result.mappings().all())
    return out
