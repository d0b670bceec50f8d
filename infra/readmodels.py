"""The read models: the request list, each agency's progress and the open tasks.

A projection of the event store, fed batch by batch and exactly once per event
by :class:`Projection` (checkpoint ``read_models``): each batch is folded in
memory with the same pure functions the workflows use (``evolve_request``,
``evolve``, ``open_tasks``), then every row it changed is written in bulk, in
the transaction that moves the checkpoint, so the tables are always the fold
of a prefix of the log. :func:`rebuild` empties them and replays the whole log
through the same code with larger batches; the result equals the live tables.

The retention review queue (``rm_reviews``) is a read model of its own, with its own
checkpoint (``infra.review_queue``); :class:`ProjectionRunner` runs both, and
:func:`rebuild` rebuilds both.

Streams read: ``request:{id}`` (the request) and ``request:{id}:agency:{code}``
(one holding agency's decision), plus the ``retention.subject_erased`` event
from ``retention:{id}``. Every other stream (``access:``, system streams) is
skipped. A task's id is ``{request_id}:{holder}:{kind}:{version}``, ``holder``
being the holding agency whose decision workflow owns the task and ``version``
that agency stream's version after the event; an acknowledgement task's
``agency`` is the recipient agency, whose people act on it.

Erasure: when the subject's key is destroyed (``SubjectErased``), every sealed
value in the request's stored states is replaced by the erased marker
(``{"erased": true}``) and the request is marked ``erased``; its rows keep
every id, role, enum and instant (who decided what, when, on which basis) and
take no further events. :func:`forget_request` (run by the disposal itself) does
the same to the current rows, so it does not matter which of the two comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

import structlog
from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.decision import AgencyDecisionState, evolve, open_tasks, start
from domain.events import (
    ERASED,
    AgencyEvent,
    RecordedEvent,
    RequestEvent,
    RequestOpened,
    SubjectErased,
)
from domain.request import AgencyProgress, SharingRequestState, evolve_request, start_request
from infra import review_queue
from infra.eventstore import EventStore
from infra.eventstore.subscriptions import (
    CheckpointFollower,
    lock_checkpoint,
    move_checkpoint,
    rewind_checkpoint,
)

log = structlog.get_logger(__name__)

PROJECTION = "read_models"
TABLES = ("rm_tasks", "rm_agency_decisions", "rm_requests")
"""Children first, so deleting in this order never trips a foreign key."""

LIVE_BATCH = 500
REBUILD_BATCH = 5000
"""Events per transaction. A rebuild folds more at once: fewer round trips, and most of
a request's events then fall in one batch, so its rows are written once."""

Progress = Callable[[int, int], None]
"""Called with (events applied, events in the log) while rebuilding."""

_ERASED_JSON = ERASED.model_dump(mode="json")


# -- where an event belongs ----------------------------------------------------------------


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


def redact(value: Any) -> Any:
    """A JSON-ready copy with every sealed value replaced by the erased marker."""
    if isinstance(value, dict):
        if value.get("sealed") == 1 and "ct" in value:
            return dict(_ERASED_JSON)
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


# -- one batch, folded in memory -----------------------------------------------------------


@dataclass
class _Agency:
    state: AgencyDecisionState | None
    """None for a row stored without its state (before erasure was projected): frozen."""
    version: int


@dataclass
class _Request:
    state: SharingRequestState
    agencies: dict[str, _Agency]
    dirty: bool = False
    erased: bool = False


@dataclass
class _Batch:
    requests: dict[UUID, _Request] = field(default_factory=dict)
    erased: set[UUID] = field(default_factory=set)
    """Requests erased before this batch: they take no more events."""
    orphans: int = 0


async def apply_batch(conn: AsyncConnection, events: Sequence[RecordedEvent]) -> None:
    """Fold ``events`` (in position order) into the read models through ``conn``."""
    streams: dict[str, tuple[UUID, str | None] | None] = {}
    targets = [(recorded, _target(recorded, streams)) for recorded in events]
    wanted = {target[0] for _, target in targets if target is not None}
    if not wanted:
        return
    batch = await _load(conn, wanted)
    for recorded, target in targets:
        if target is not None:
            _fold(batch, recorded, *target)
    if batch.orphans:  # a stream without its opening: nothing to project onto
        log.warning("read_model_orphan_events", events=batch.orphans)
    await _write(conn, [r for r in batch.requests.values() if r.dirty])


def _target(
    recorded: RecordedEvent, streams: dict[str, tuple[UUID, str | None] | None]
) -> tuple[UUID, str | None] | None:
    """The request (and agency stream) an event is projected onto, if any."""
    event = recorded.event
    if isinstance(event, SubjectErased):
        return event.request_id, None
    if not isinstance(event, RequestEvent):
        return None
    stream_id = recorded.stream_id
    if stream_id not in streams:  # a batch holds a few events of each stream: parse once
        streams[stream_id] = parse_stream(stream_id)
    return streams[stream_id]


def _fold(
    batch: _Batch, recorded: RecordedEvent, request_id: UUID, stream_agency: str | None
) -> None:
    event = recorded.event
    if request_id in batch.erased:
        return
    request = batch.requests.get(request_id)
    if isinstance(event, RequestOpened):
        if request is None:  # a repeated opening changes nothing
            batch.requests[request_id] = _opened(event)
        return
    if request is None:
        batch.orphans += 1
        return
    if request.erased:  # an erased request takes no more events
        return
    if isinstance(event, SubjectErased):
        request.erased = request.dirty = True
        return
    assert isinstance(event, RequestEvent)
    updated = evolve_request(request.state, event)
    if updated is not request.state:
        request.state = updated
        request.dirty = True
    if isinstance(event, AgencyEvent):
        version = recorded.version if stream_agency == event.agency else None
        _apply_to_agency(request, event.agency, recorded, version)
    else:  # re-rating and withdrawal reach every agency's decision (as the signals do)
        for code in list(request.agencies):
            _apply_to_agency(request, code, recorded, None)


def _opened(opened: RequestOpened) -> _Request:
    return _Request(
        state=start_request(opened),
        agencies={a: _Agency(start(opened, a), 0) for a in opened.holding_agencies},
        dirty=True,
    )


def _apply_to_agency(
    request: _Request, agency: str, recorded: RecordedEvent, version: int | None
) -> None:
    row = request.agencies.get(agency)
    if row is None or row.state is None:
        return
    new_state = evolve(row.state, recorded.event)
    new_version = row.version if version is None else version
    if new_state is not row.state or new_version != row.version:
        row.state, row.version = new_state, new_version
        request.dirty = True


async def _load(conn: AsyncConnection, ids: set[UUID]) -> _Batch:
    """The stored states of the requests a batch touches (two queries)."""
    batch = _Batch()
    params = {"ids": list(ids)}
    requests = (
        await conn.execute(
            text(
                "SELECT request_id, erased, CAST(state AS text) AS state FROM rm_requests "
                "WHERE request_id = ANY(:ids)"
            ),
            params,
        )
    ).all()
    batch.erased = {r.request_id for r in requests if r.erased}
    live = [r for r in requests if not r.erased]
    if not live:
        return batch
    agencies = (
        await conn.execute(
            text(
                "SELECT request_id, agency, version, CAST(state AS text) AS state "
                "FROM rm_agency_decisions WHERE request_id = ANY(:ids)"
            ),
            {"ids": [r.request_id for r in live]},
        )
    ).all()
    by_request: dict[UUID, dict[str, _Agency]] = {r.request_id: {} for r in live}
    for a in agencies:
        by_request[a.request_id][a.agency] = _Agency(
            state=None if a.state is None else AgencyDecisionState.model_validate_json(a.state),
            version=int(a.version),
        )
    batch.requests = {
        r.request_id: _Request(
            state=SharingRequestState.model_validate_json(r.state),
            agencies=by_request[r.request_id],
        )
        for r in live
    }
    return batch


# -- writing a batch in bulk -----------------------------------------------------------------

_UPSERT_REQUEST = (
    "INSERT INTO rm_requests (request_id, subject_id, requesting_agency, rating, status, "
    "opened_at, decision_due_at, closed_at, withdrawn_at, holders, erased, state) VALUES "
    "(:request_id, :subject_id, :requesting_agency, :rating, :status, :opened_at, "
    ":decision_due_at, :closed_at, :withdrawn_at, :holders, :erased, CAST(:state AS jsonb)) "
    "ON CONFLICT (request_id) DO UPDATE SET rating = excluded.rating, "
    "status = excluded.status, decision_due_at = excluded.decision_due_at, "
    "closed_at = excluded.closed_at, withdrawn_at = excluded.withdrawn_at, "
    "holders = excluded.holders, erased = excluded.erased, state = excluded.state"
)
_UPSERT_AGENCY = (
    "INSERT INTO rm_agency_decisions (request_id, agency, status, outcome, decided_at, "
    "completed_at, decision_due_at, missed, on_time, version, state) VALUES "
    "(:request_id, :agency, :status, :outcome, :decided_at, :completed_at, "
    ":decision_due_at, :missed, :on_time, :version, CAST(:state AS jsonb)) "
    "ON CONFLICT (request_id, agency) DO UPDATE SET status = excluded.status, "
    "outcome = excluded.outcome, decided_at = excluded.decided_at, "
    "completed_at = excluded.completed_at, decision_due_at = excluded.decision_due_at, "
    "missed = excluded.missed, on_time = excluded.on_time, version = excluded.version, "
    "state = excluded.state"
)
_INSERT_TASK = (
    "INSERT INTO rm_tasks (task_id, request_id, holder, agency, kind, role, due_at, "
    "rating, version) VALUES (:task_id, :request_id, :holder, :agency, :kind, :role, "
    ":due_at, :rating, :version)"
)


async def _write(conn: AsyncConnection, changed: Sequence[_Request]) -> None:
    """Every changed row once: one statement per table (executemany, one round trip each).

    An erased request's states are written with every sealed value replaced by the
    erased marker, and it keeps no open tasks.
    """
    if not changed:
        return
    await conn.execute(text(_UPSERT_REQUEST), [_request_row(r) for r in changed])
    agency_rows = [
        _agency_row(r, r.state.progress(code), a.state, a.version)
        for r in changed
        for code, a in r.agencies.items()
        if a.state is not None
    ]
    if agency_rows:
        await conn.execute(text(_UPSERT_AGENCY), agency_rows)
    await conn.execute(
        text("DELETE FROM rm_tasks WHERE request_id = ANY(:ids)"),
        {"ids": [r.state.request_id for r in changed]},
    )
    task_rows = [
        _task_row(a.state, t, a.version)
        for r in changed
        if not r.erased
        for a in r.agencies.values()
        if a.state is not None
        for t in open_tasks(a.state)
    ]
    if task_rows:
        await conn.execute(text(_INSERT_TASK), task_rows)


def _state_json(request: _Request, state: SharingRequestState | AgencyDecisionState) -> str:
    if request.erased:
        return json.dumps(redact(state.model_dump(mode="json")))
    return state.model_dump_json()


def request_status(state: SharingRequestState) -> str:
    if state.withdrawn_at is not None:
        return "withdrawn"
    return "closed" if state.closed_at is not None else "open"


def _request_row(r: _Request) -> dict[str, Any]:
    s = r.state
    return {
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
        "erased": r.erased,
        "state": _state_json(r, s),
    }


def agency_status(progress: AgencyProgress, state: AgencyDecisionState) -> str:
    if state.withdrawn_at is not None and state.completed_at is None:
        return "withdrawn"
    return str(progress.status)


def _agency_row(
    request: _Request, progress: AgencyProgress, state: AgencyDecisionState, version: int
) -> dict[str, Any]:
    decided_at = state.decision.decided_at if state.decision is not None else None
    return {
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
        "state": _state_json(request, state),
    }


def task_id(request_id: UUID, holder: str, kind: str, version: int) -> str:
    return f"{request_id}:{holder}:{kind}:{version}"


def _task_row(state: AgencyDecisionState, t: Any, version: int) -> dict[str, Any]:
    return {
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


# -- feeding the projection exactly once -----------------------------------------------------


class Projection(CheckpointFollower):
    """Feeds the read models every event exactly once, a batch per transaction.

    Each batch is read from the store (``EventStore.read_all_batches``), then, in one
    transaction, the checkpoint row is locked (``FOR UPDATE``), events at or below
    the stored position are skipped (another runner applied them), the rest are
    folded and written, and the checkpoint moves to the batch's end. A crash redoes at
    most an uncommitted batch; two runners never apply an event twice. If the
    checkpoint went back meanwhile (a rebuild reset it), the batch is dropped and
    reading starts again from there.
    """

    def __init__(
        self,
        store: EventStore,
        *,
        batch_size: int = LIVE_BATCH,
        poll_interval: float = 0.2,
        name: str = PROJECTION,
    ) -> None:
        super().__init__(store, name, batch_size=batch_size, poll_interval=poll_interval)

    async def catch_up(self, applied_batch: Callable[[int], None] | None = None) -> int:
        """Apply every event available now; returns how many were applied.

        ``applied_batch`` is called with the running total after each batch.
        """
        applied = 0
        while not self._stopping.is_set():
            after = await self.position()
            rewound = False
            # An async generator: closed on leaving early, so its prefetch is cancelled.
            batches = cast(
                "AsyncGenerator[list[RecordedEvent], None]",
                self._store.read_all_batches(after, self._batch_size),
            )
            async with contextlib.aclosing(batches):
                async for batch in batches:
                    done = await self._apply(batch, after)
                    if done is None:
                        rewound = True
                        break
                    applied += done
                    after = batch[-1].position
                    if applied_batch is not None:
                        applied_batch(applied)
                    if self._stopping.is_set():
                        break
            if not rewound:
                break
        return applied

    async def _apply(self, events: list[RecordedEvent], after: int) -> int | None:
        """Apply one batch read after position ``after``; None if the checkpoint went back."""
        async with self._store.engine.begin() as conn:
            stored = await lock_checkpoint(conn, self.name)
            if stored < after:
                return None
            fresh = [r for r in events if r.position > stored]
            if fresh:
                await apply_batch(conn, fresh)
                await move_checkpoint(conn, self.name, fresh[-1].position)
        return len(fresh)


class ProjectionRunner:
    """Keeps the read models live: follows the log until :meth:`stop`.

    Two followers, each with its own checkpoint: the request read models
    (:class:`Projection`) and the retention review queue (``infra.review_queue``).
    """

    def __init__(self, store: EventStore, *, poll_interval: float = 0.2) -> None:
        self.projection = Projection(store, poll_interval=poll_interval)
        self.reviews = review_queue.ReviewQueue(store, poll_interval=poll_interval)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.retry_after_s = 5.0

    async def catch_up(self) -> int:
        """Apply every event available now; returns how many the request models applied."""
        applied = await self.projection.catch_up()
        await self.reviews.catch_up()
        return applied

    async def run(self) -> None:
        """Follow the log; a failed batch is rolled back, logged and retried after a pause."""
        await asyncio.gather(
            self._follow(self.projection, "read_models_batch_failed"),
            self._follow(self.reviews, "review_queue_batch_failed"),
        )

    async def _follow(self, follower: CheckpointFollower, failure: str) -> None:
        while not self._stopping:
            try:
                await follower.run()
            except Exception:
                log.exception(failure)
                await asyncio.sleep(self.retry_after_s)

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="read_models")
        return self._task

    async def stop(self) -> None:
        """Let the current batches commit, then return (re-raising a failure of the loop)."""
        self._stopping = True
        self.projection.stop()
        self.reviews.stop()
        if self._task is not None:
            task, self._task = self._task, None
            await task


async def reset(engine: AsyncEngine) -> None:
    """Empty the read models and rewind their checkpoints, in one transaction (the
    retention review queue, ``infra.review_queue``, with its own checkpoint, too).

    The checkpoint row is locked first, so a live runner finishes its batch before the
    tables empty and then starts again from the beginning with this rebuild.
    """
    async with engine.begin() as conn:
        await rewind_checkpoint(conn, PROJECTION)
        for table in TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
        await review_queue.reset(conn)


async def rebuild(
    store: EventStore,
    engine: AsyncEngine,
    progress: Progress | None = None,
    *,
    batch_size: int = REBUILD_BATCH,
) -> int:
    """Drop every read-model row and replay the whole log; returns the events the rebuilt
    tables reflect.

    A live runner (a worker's or an API's) may share the work: the checkpoint is shared
    and each event is applied once, by whichever gets there first. So the count returned
    is of the log up to the checkpoint reached, whoever applied it, not only what this
    call applied. Memory stays bounded by one batch: nothing is kept between batches
    but the checkpoint, so a request whose events span batches is read back from its rows.
    """
    async with engine.connect() as conn:
        total = int(await conn.scalar(text("SELECT count(*) FROM events")) or 0)
    await reset(engine)

    def applied_batch(done: int) -> None:
        if progress is not None:
            progress(done, max(total, done))

    applied = await Projection(store, batch_size=batch_size).catch_up(applied_batch)
    await review_queue.catch_up(store)  # its own pass: its own checkpoint
    async with engine.connect() as conn:
        covered = int(
            await conn.scalar(
                text(
                    "SELECT count(*) FROM events WHERE position <= "
                    "(SELECT position FROM projection_checkpoints WHERE name = :name)"
                ),
                {"name": PROJECTION},
            )
            or 0
        )
    applied_batch(max(applied, covered))
    log.info("read_models_rebuilt", events=covered, applied_here=applied)
    return covered


async def forget_request(conn: AsyncConnection, request_id: UUID) -> None:
    """For retention disposal: erase the request's stored states now, as the projection
    does when it reaches ``SubjectErased`` (idempotent: whichever of the two runs first,
    the rows end the same)."""
    batch = await _load(conn, {request_id})
    request = batch.requests.get(request_id)
    if request is None:  # unknown, or erased already
        return
    request.erased = True
    await _write(conn, [request])


async def snapshot(engine: AsyncEngine) -> dict[str, list[RowMapping]]:
    """Every read-model row, in a stable order (for comparing live and rebuilt tables)."""
    keys = {
        "rm_requests": "request_id",
        "rm_agency_decisions": "request_id, agency",
        "rm_tasks": "task_id",
        review_queue.TABLE: "review_id",
    }
    out: dict[str, list[RowMapping]] = {}
    async with engine.connect() as conn:
        for table, order in keys.items():
            result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))  # noqa: S608
            out[table] = list(result.mappings().all())
    return out
