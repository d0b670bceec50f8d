"""The read models' rows: one batch of events folded in memory and written in bulk.

:func:`apply_batch` is what :class:`infra.readmodels.Projection` runs for each
batch, live and when rebuilding: it loads the stored states of the requests the
batch touches, folds the events into them with the domain's own ``evolve``
functions, and upserts every changed row once (requests, agency decisions, open
tasks). See :mod:`infra.readmodels` for the streams read, task ids and erasure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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
from domain.tasks import TaskId

log = structlog.get_logger(__name__)


_ERASED_JSON = ERASED.model_dump(mode="json")


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
        if value.get("sealed") in (1, 2) and "ct" in value:
            return dict(_ERASED_JSON)
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


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


def _request_row(r: _Request) -> dict[str, Any]:
    s = r.state
    return {
        "request_id": s.request_id,
        "subject_id": s.subject_id,
        "requesting_agency": s.requesting_agency,
        "rating": str(s.rating),
        "status": s.status.value,
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


def _task_row(state: AgencyDecisionState, t: Any, version: int) -> dict[str, Any]:
    return {
        "task_id": str(TaskId(state.request_id, state.agency, str(t.kind), version)),
        "request_id": state.request_id,
        "holder": state.agency,
        "agency": t.agency,
        "kind": str(t.kind),
        "role": str(t.role),
        "due_at": t.due_at,
        "rating": str(state.rating),
        "version": version,
    }
