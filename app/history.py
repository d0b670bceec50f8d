"""Replaying one request for compliance: timeline, rebuilt state, decision records, checks.

Everything here is rebuilt from the request's events with the same pure
functions the workflows use (``domain.request.fold_request`` and
``domain.decision.fold``), so a replay can never disagree with what the
workflows decided. Summaries are built from enums, ids and dates only; the
sealed values are opened only when ``reveal`` is asked for, and a subject
whose key was destroyed shows ``[erased]``. Used by the API and the CLI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any
from uuid import UUID

import structlog
from pydantic import BaseModel

from app.summaries import summarise
from domain.decision import AgencyDecisionState, fold, start
from domain.events import (
    Erased,
    RecordedEvent,
    RequestOpened,
    Sealed,
    SubjectErased,
)
from domain.events.access import AccessRefused, PersonalDataViewed, ViewKind
from domain.frozen import Frozen
from domain.request import SharingRequestState, fold_request, start_request
from domain.vocabulary import Role
from infra.crypto import Keyring, KeySession
from infra.directory import NotFoundError
from infra.eventstore import EventStore, TamperedEvent, VerifyReport
from infra.users import UserDirectory

log = structlog.get_logger(__name__)

SEALED = "[sealed]"
ERASED_TEXT = "[erased]"


class RequestNotFound(LookupError):  # noqa: N818 - reads as the verdict
    """No event of this request is in the store."""

    def __init__(self, request_id: UUID) -> None:
        super().__init__(f"no request {request_id} in the event store")
        self.request_id = request_id


class TimelineEntry(Frozen):
    position: int
    stream_id: str
    version: int
    event_type: str
    summary: str
    agency: str | None
    actor_id: str | None
    actor_role: str | None
    actor_agency: str | None
    recorded_at: datetime


class AccessEntry(Frozen):
    viewer_id: str
    viewer_role: Role
    viewer_agency: str | None
    what: ViewKind
    viewed_at: datetime
    refused: bool = False
    """An attempt that was refused (nothing was shown), recorded as every view is."""


class StreamCheck(Frozen):
    stream_id: str
    events: int
    head_version: int
    ok: bool
    detail: str | None = None


class RequestVerification(Frozen):
    """Each of the request's streams: hashes and links verified, versions complete.

    A stream removed whole, or a tail cut off, shows only against a checkpoint: the
    whole-store ``verify`` finds those.
    """

    ok: bool
    streams: list[StreamCheck]
    problems: list[str]


class AgencyHistory(Frozen):
    agency: str
    state: AgencyDecisionState
    decision_record: dict[str, Any] | None
    """The decision record, JSON-ready: sealed values opened when revealed, else [sealed]."""


class RequestHistory(Frozen):
    request_id: UUID
    as_of: datetime | None
    revealed: bool
    subject_erased: bool
    events: list[TimelineEntry]
    request: SharingRequestState | None
    request_details: dict[str, Any] | None
    agencies: list[AgencyHistory]
    access_log: list[AccessEntry]
    verification: RequestVerification


# --- replay -------------------------------------------------------------------------------


async def request_history(
    store: EventStore,
    keyring: Keyring,
    request_id: UUID,
    *,
    as_of: datetime | None = None,
    reveal: bool,
) -> RequestHistory:
    """The request as the events tell it (as known at ``as_of``, if given).

    Raises :class:`RequestNotFound` when the store holds nothing of the request. A
    tampered event does not raise: the history comes back empty with the verification
    naming the break, because that is the finding a compliance officer needs.
    """
    try:
        recorded = await store.read_correlation(request_id)
    except TamperedEvent as exc:
        failed = RequestVerification(
            ok=False,
            streams=[
                StreamCheck(
                    stream_id=exc.stream_id, events=0, head_version=0, ok=False, detail=str(exc)
                )
            ],
            problems=[str(exc)],
        )
        return _empty(request_id, as_of, reveal, failed)
    if not recorded:
        raise RequestNotFound(request_id)
    verification = await _verify_streams(store, recorded)
    cutoff = as_of.astimezone(UTC) if as_of is not None else None
    known = [r for r in recorded if cutoff is None or r.recorded_at <= cutoff]
    events = [r.event for r in known]
    session = keyring.session() if reveal else None

    opened = next((e for e in events if isinstance(e, RequestOpened)), None)
    request_state = None
    agencies: list[AgencyHistory] = []
    details: dict[str, Any] | None = None
    steps = [e for e in events if not isinstance(e, PersonalDataViewed | AccessRefused)]
    if opened is not None:
        request_state = fold_request(start_request(opened), steps)
        details = {
            "subject_details": await _render(opened.subject_details, session),
            "purpose": await _render(opened.purpose, session),
            "information_sought": await _render(opened.information_sought, session),
        }
        for code in opened.holding_agencies:
            state = fold(start(opened, code), steps)
            record = await _render(state.decision, session) if state.decision else None
            if record is not None:
                record["afterwards"] = await _afterwards(state, session)
            agencies.append(AgencyHistory(agency=code, state=state, decision_record=record))
        await _name_people(store, agencies)
    log.info(
        "request_history_replayed",
        request_id=str(request_id),
        events=len(known),
        revealed=reveal,
        as_of=cutoff.isoformat() if cutoff else None,
    )
    return RequestHistory(
        request_id=request_id,
        as_of=cutoff,
        revealed=reveal,
        subject_erased=any(isinstance(e, SubjectErased) for e in events),
        events=[_entry(r) for r in known],
        request=request_state,
        request_details=details,
        agencies=agencies,
        access_log=[
            _access(e) for e in events if isinstance(e, PersonalDataViewed | AccessRefused)
        ],
        verification=verification,
    )


async def _afterwards(state: AgencyDecisionState, session: KeySession | None) -> dict[str, Any]:
    """What the record's readers need that happened after the decision: whether the person
    was told (when, or why not and when that is reviewed), and a withdrawal of consent."""
    consent = state.consent
    withdrawal = consent.withdrawal if consent is not None else None
    return {
        "informed": state.informed,
        "informed_at": state.informed_at.isoformat() if state.informed_at else None,
        "not_informed_reason": (
            state.not_informed_reason.value if state.not_informed_reason else None
        ),
        "review_on": state.inform_review_on.isoformat() if state.inform_review_on else None,
        "consent_withdrawal": await _render(withdrawal, session) if withdrawal else None,
    }


async def _name_people(store: EventStore, agencies: Sequence[AgencyHistory]) -> None:
    """Each decision record's people by display name as well as id, from the register (the
    ICO form asks for the decision maker's name; the log keeps ids only). A name the
    register does not hold leaves the id alone."""
    ids: set[UUID] = set()
    for a in agencies:
        for value in _people_ids(a.decision_record or {}):
            with contextlib.suppress(ValueError):
                ids.add(UUID(value))
    if not ids:
        return
    users = UserDirectory(store.engine)
    names: dict[str, str] = {}
    for user_id in ids:
        with contextlib.suppress(NotFoundError):
            names[str(user_id)] = (await users.get(user_id)).display_name
    for a in agencies:
        if a.decision_record is not None:
            a.decision_record["names"] = {
                k: v for k, v in names.items() if k in _people_ids(a.decision_record)
            }


def _people_ids(record: dict[str, Any]) -> set[str]:
    found = {str(record.get("decided_by")), str(record.get("requested_by"))}
    found |= {str(a.get("advisor_id")) for a in record.get("advice") or []}
    withdrawal = (record.get("afterwards") or {}).get("consent_withdrawal") or {}
    if withdrawal.get("recorded_by"):
        found.add(str(withdrawal["recorded_by"]))
    return found


def _access(e: PersonalDataViewed | AccessRefused) -> AccessEntry:
    refused = isinstance(e, AccessRefused)
    return AccessEntry(
        viewer_id=e.viewer_id,
        viewer_role=e.viewer_role,
        viewer_agency=e.viewer_agency,
        what=e.what,
        viewed_at=e.refused_at if isinstance(e, AccessRefused) else e.viewed_at,
        refused=refused,
    )


def _empty(
    request_id: UUID, as_of: datetime | None, reveal: bool, verification: RequestVerification
) -> RequestHistory:
    return RequestHistory(
        request_id=request_id,
        as_of=as_of,
        revealed=reveal,
        subject_erased=False,
        events=[],
        request=None,
        request_details=None,
        agencies=[],
        access_log=[],
        verification=verification,
    )


async def _verify_streams(
    store: EventStore, recorded: Sequence[RecordedEvent]
) -> RequestVerification:
    """Reading already checked every hash and link (the store's decoder raises otherwise);
    here: every version present from 1, and nothing of the stream outside the request."""
    versions: dict[str, list[int]] = {}
    for r in recorded:
        versions.setdefault(r.stream_id, []).append(r.version)
    checks: list[StreamCheck] = []
    problems: list[str] = []
    for stream_id, seen in sorted(versions.items()):
        head = await store.stream_version(stream_id)
        detail = None
        if sorted(seen) != list(range(1, len(seen) + 1)):
            missing = sorted(set(range(1, max(seen) + 1)) - set(seen))
            detail = (
                f"versions missing: {', '.join(map(str, missing))}"
                if missing
                else ("versions out of order")
            )
        elif head != len(seen):
            detail = f"the stream holds {head} events, {len(seen)} belong to this request"
        if detail is not None:
            problems.append(f"{stream_id}: {detail}")
        checks.append(
            StreamCheck(
                stream_id=stream_id,
                events=len(seen),
                head_version=head,
                ok=detail is None,
                detail=detail,
            )
        )
    return RequestVerification(ok=not problems, streams=checks, problems=problems)


async def json_ready(value: Any, session: KeySession | None) -> Any:
    """A JSON-ready copy: sealed values opened (or [erased]) with a session, else [sealed]."""
    return await _render(value, session)


async def _render(value: Any, session: KeySession | None) -> Any:
    """A JSON-ready copy: sealed values opened (or [erased]) with a session, else [sealed]."""
    if isinstance(value, Sealed):
        if session is None:
            return SEALED
        opened = await session.open(value)
        return ERASED_TEXT if isinstance(opened, Erased) else opened
    if isinstance(value, Erased):
        return ERASED_TEXT
    if isinstance(value, BaseModel):
        return {
            name: await _render(getattr(value, name), session) for name in type(value).model_fields
        }
    if isinstance(value, dict):
        return {str(k): await _render(v, session) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [await _render(v, session) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _entry(r: RecordedEvent) -> TimelineEntry:
    m = r.metadata
    return TimelineEntry(
        position=r.position,
        stream_id=r.stream_id,
        version=r.version,
        event_type=r.event_type,
        summary=summarise(r.event),
        agency=getattr(r.event, "agency", None),
        actor_id=m.actor_id,
        actor_role=m.actor_role,
        actor_agency=m.actor_agency,
        recorded_at=r.recorded_at,
    )


# --- plain-words summaries (enums, ids and dates only) -----------------------------------------


# --- recording views --------------------------------------------------------------------------


# --- whole-store verification ---------------------------------------------------------------


async def verify_store(
    store: EventStore,
    progress: Callable[[int, int], None] | None = None,
    *,
    trusted_digest: str | None = None,
    checkpoint_first: bool = False,
) -> VerifyReport:
    """Walk the whole log (optionally after taking a checkpoint) and report every break."""
    if checkpoint_first:
        await store.checkpoint()
    report = await store.verify(progress, trusted_digest=trusted_digest)
    log.info(
        "store_verified",
        ok=report.ok,
        events=report.events_checked,
        problems=len(report.findings),
    )
    return report


# --- export -------------------------------------------------------------------------------
