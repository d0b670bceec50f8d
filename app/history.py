"""Replaying one request for compliance: timeline, rebuilt state, decision records, checks.

Everything here is rebuilt from the request's events with the same pure
functions the workflows use (``domain.request.fold_request`` and
``domain.decision.fold``), so a replay can never disagree with what the
workflows decided. Summaries are built from enums, ids and dates only; the
sealed values are opened only when ``reveal`` is asked for, and a subject
whose key was destroyed shows ``[erased]``. Used by the API and the CLI.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import jinja2
import structlog
from pydantic import BaseModel, ConfigDict

from app.record_words import details_lines, record_lines
from domain.decision import AgencyDecisionState, fold, start
from domain.events import (
    AdviceGiven,
    AdviceRequested,
    AgencyDecisionCompleted,
    ConsentNotSought,
    ConsentRecorded,
    ConsentSought,
    DeadlineMissed,
    DecisionRecorded,
    Erased,
    Escalated,
    Event,
    EventMetadata,
    InformationSelected,
    LawfulBasisDetermined,
    PackageOpened,
    PackageRevoked,
    PackageSent,
    PersonInformed,
    PersonNotInformed,
    PurposeAssessed,
    RatingChanged,
    ReceiptAcknowledged,
    RecordDisposed,
    RecordedEvent,
    RecordRetained,
    RequestClosed,
    RequestOpened,
    RequestWithdrawn,
    RetentionReviewOpened,
    Sealed,
    SubjectErased,
)
from domain.events.access import AccessRefused, PersonalDataViewed, ViewKind, access_stream
from domain.events.values import LawfulBasis
from domain.models import Actor
from domain.request import SharingRequestState, fold_request, start_request
from domain.vocabulary import Role
from infra.crypto import Keyring, KeySession
from infra.eventstore import ANY_VERSION, EventStore, NewEvent, TamperedEvent, VerifyReport

log = structlog.get_logger(__name__)

SEALED = "[sealed]"
ERASED_TEXT = "[erased]"
TEMPLATES = Path(__file__).resolve().parent.parent / "api" / "templates"


class RequestNotFound(LookupError):  # noqa: N818 - reads as the verdict
    """No event of this request is in the store."""

    def __init__(self, request_id: UUID) -> None:
        super().__init__(f"no request {request_id} in the event store")
        self.request_id = request_id


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


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
            agencies.append(AgencyHistory(agency=code, state=state, decision_record=record))
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


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _d(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _list(values: Sequence[object]) -> str:
    return ", ".join(str(v) for v in values) or "none"


def _protection(basis: LawfulBasis) -> str:
    """Who a basis protects and, for para 18, why consent is not had, in words."""
    words = ""
    if basis.protects is not None:
        words += f", protecting the {basis.protects.relation} ({basis.protects.kind} at risk)"
    if basis.para18_reason is not None:
        words += f", DPA 2018 Sch. 1 para 18: consent {basis.para18_reason}"
    if basis.offence_condition is not None:
        words += f", criminal offence data: {basis.offence_condition}"
    if basis.life_or_death:
        words += ", a life at stake"
    return words.replace("_", " ")


def _decision(e: DecisionRecorded) -> str:
    r = e.record
    if r.outcome.value == "share":
        basis = r.lawful_basis
        on = f" on {basis.art6}" if basis else ""
        if basis and basis.without_consent:
            on += f" ({basis.without_consent} without consent)"
        if basis:
            on += _protection(basis)
        return (
            f"{e.agency}: decided to share {len(r.items)} item(s) with {r.shared_with}{on}; "
            f"consent {r.consent.outcome}; decided by {r.decided_by} ({r.decided_by_role})"
        )
    return (
        f"{e.agency}: decided not to share ({_list([x.value for x in r.not_share_reasons])}); "
        f"decided by {r.decided_by} ({r.decided_by_role})"
    )


def _closed(e: RequestClosed) -> str:
    outcomes = [
        *([f"shared by {_list(e.shared_by)}"] if e.shared_by else []),
        *([f"not shared by {_list(e.not_shared_by)}"] if e.not_shared_by else []),
    ]
    return (
        f"Request closed{' (withdrawn)' if e.withdrawn else ''}: "
        f"{'; '.join(outcomes) or 'nothing shared'}"
    )


_SUMMARIES: dict[type[Event], Callable[[Any], str]] = {
    RequestOpened: lambda e: (
        f"Request opened for {e.requesting_agency} about a {e.subject_kind}, asking "
        f"{_list(e.holding_agencies)}; purpose {e.purpose_category}, rated {e.rating}, "
        f"decision due {_d(e.decision_due_at)}"
        + (f"; hub policy {e.policy_digest[:12]} in force" if e.policy_digest else "")
        + ("; about an allegation against staff" if e.allegation_against_staff else "")
    ),
    RatingChanged: lambda e: (
        f"Rating changed from {e.previous} to {e.rating}; decision now due {_d(e.decision_due_at)}"
    ),
    RequestWithdrawn: lambda e: f"Request withdrawn by {e.withdrawn_by}",
    RequestClosed: _closed,
    DeadlineMissed: lambda e: f"{e.agency}: {e.kind} deadline missed (due {_d(e.due_at)})",
    Escalated: lambda e: (
        f"{e.agency}: {e.kind} deadline {e.level}, notifying {_list([r.value for r in e.notify])}"
    ),
    PurposeAssessed: lambda e: (
        f"{e.agency}: purpose assessed: legitimate {_yes(e.legitimate)}, identifiable "
        f"{_yes(e.identifiable)}, confidential {_yes(e.confidential)}, special category "
        f"{_yes(e.special_category)}, criminal offence data {_yes(e.criminal_offence_data)}"
        + (
            f"; {e.compelled_by.kind} applies ({e.compelled_by.citation}): consent not needed"
            if e.compelled_by
            else ""
        )
    ),
    ConsentSought: lambda e: f"{e.agency}: consent sought, answer due {_d(e.respond_by)}",
    ConsentRecorded: lambda e: (
        f"{e.agency}: consent {e.consent.outcome}"
        + (f", by {e.consent.given_by}" if e.consent.given_by else "")
        + (
            f", capacity or competence considered {_yes(e.consent.capacity_considered)}"
            if e.consent.capacity_considered is not None
            else ""
        )
    ),
    ConsentNotSought: lambda e: (
        f"{e.agency}: consent not sought ({e.reason}"
        + (f", at risk: the {e.at_risk.relation} ({e.at_risk.kind})" if e.at_risk else "")
        + ")"
    ),
    AdviceRequested: lambda e: (
        f"{e.agency}: advice requested{' (person named)' if e.subject_named else ''}, "
        f"due {_d(e.respond_by)}"
    ),
    AdviceGiven: lambda e: (
        f"{e.agency}: advice given by {e.advice.advisor_id}"
        + (f" as {e.advice.capacity}" if e.advice.capacity else "")
        + f": {e.advice.recommendation}; "
        f"agrees to share without consent {_yes(e.advice.agrees_to_share_without_consent)}"
    ),
    LawfulBasisDetermined: lambda e: (
        f"{e.agency}: lawful basis {e.basis.art6}"
        + (f", {e.basis.art9}" if e.basis.art9 else "")
        + (f", without consent: {e.basis.without_consent}" if e.basis.without_consent else "")
        + _protection(e.basis)
    ),
    InformationSelected: lambda e: (
        f"{e.agency}: {len(e.items)} item(s) selected"
        + (
            f", {sum(i.protect_identity for i in e.items)} naming someone not to be identified"
            if any(i.protect_identity for i in e.items)
            else ""
        )
    ),
    DecisionRecorded: _decision,
    PackageSent: lambda e: (
        f"{e.agency}: package of {e.item_count} item(s) sent to {e.recipient_agency}"
    ),
    PackageOpened: lambda e: f"{e.agency}: package opened by {e.opened_by}",
    ReceiptAcknowledged: lambda e: f"{e.agency}: receipt acknowledged by {e.acknowledged_by}",
    PackageRevoked: lambda e: (
        f"{e.agency}: package revoked by {e.revoked_by} ({e.revoked_by_role})"
    ),
    PersonInformed: lambda e: f"{e.agency}: person informed",
    PersonNotInformed: lambda e: (
        f"{e.agency}: person not informed ({e.reason})"
        + (f"; to be looked at again on {e.review_on.isoformat()}" if e.review_on else "")
    ),
    AgencyDecisionCompleted: lambda e: (
        f"{e.agency}: decision complete ({e.outcome}, {'on time' if e.on_time else 'late'})"
        + (
            f"; the requester is told why: {_list([r.value for r in e.not_share_reasons])}"
            if e.not_share_reasons
            else ""
        )
    ),
    RetentionReviewOpened: lambda e: (
        f"Retention review opened for the {e.record_type} record, due {e.due_on.isoformat()}"
    ),
    RecordRetained: lambda e: (
        f"{e.record_type} record retained by {e.reviewed_by}; next review "
        f"{e.next_review_on.isoformat()}"
    ),
    RecordDisposed: lambda e: f"{e.record_type} record disposed of by {e.disposed_by} ({e.reason})",
    SubjectErased: lambda e: f"Subject's personal data erased ({e.reason})",
    AccessRefused: lambda e: (
        f"Access refused ({e.what}) to {e.viewer_id} ({e.viewer_role}"
        + (f", {e.viewer_agency}" if e.viewer_agency else "")
        + ")"
    ),
    PersonalDataViewed: lambda e: (
        f"Personal data viewed ({e.what}) by {e.viewer_id} ({e.viewer_role}"
        + (f", {e.viewer_agency}" if e.viewer_agency else "")
        + ")"
    ),
}


def summarise(event: Event) -> str:
    """One line in plain words, from enums, ids and dates only (never a sealed value)."""
    render = _SUMMARIES.get(type(event))
    return render(event) if render is not None else type(event).event_type.replace("_", " ")


# --- recording views --------------------------------------------------------------------------


async def record_view(
    store: EventStore,
    request_id: UUID,
    viewer: Actor,
    what: ViewKind,
    *,
    now: datetime | None = None,
) -> None:
    """Append the fact that someone saw this request's personal data in clear."""
    viewed = PersonalDataViewed(
        request_id=request_id,
        viewer_id=viewer.user_id,
        viewer_role=viewer.role,
        viewer_agency=viewer.agency,
        what=what,
        viewed_at=now or datetime.now(UTC),
    )
    metadata = EventMetadata(
        actor_id=viewer.user_id,
        actor_role=viewer.role.value,
        actor_agency=viewer.agency,
        correlation_id=request_id,
    )
    await store.append(
        access_stream(request_id), ANY_VERSION, [NewEvent(uuid4(), viewed, metadata)]
    )
    log.info("personal_data_viewed", request_id=str(request_id), what=what.value)


async def record_refusal(
    store: EventStore,
    request_id: UUID,
    viewer: Actor,
    what: ViewKind,
    *,
    package_id: UUID | None = None,
    now: datetime | None = None,
) -> None:
    """Append the fact that someone was refused a view of this request's personal data."""
    refused = AccessRefused(
        request_id=request_id,
        viewer_id=viewer.user_id,
        viewer_role=viewer.role,
        viewer_agency=viewer.agency,
        what=what,
        package_id=package_id,
        refused_at=now or datetime.now(UTC),
    )
    metadata = EventMetadata(
        actor_id=viewer.user_id,
        actor_role=viewer.role.value,
        actor_agency=viewer.agency,
        correlation_id=request_id,
    )
    await store.append(
        access_stream(request_id), ANY_VERSION, [NewEvent(uuid4(), refused, metadata)]
    )
    log.info("access_refused", request_id=str(request_id), what=what.value)


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
        problems=len(report.problems),
    )
    return report


def report_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "events_checked": report.events_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "anchored_checked": report.anchored_checked,
        "checkpoint_digest": report.checkpoint_digest,
        "problems": [
            {
                "kind": p.kind.value,
                "stream_id": p.stream_id,
                "version": p.version,
                "detail": p.detail,
            }
            for p in report.problems
        ],
    }


# --- export -------------------------------------------------------------------------------


def history_json(history: RequestHistory) -> dict[str, Any]:
    data: dict[str, Any] = history.model_dump(mode="json")
    return data


CSV_COLUMNS = (
    "section",
    "position",
    "stream_id",
    "version",
    "recorded_at",
    "event_type",
    "agency",
    "actor_id",
    "actor_role",
    "actor_agency",
    "field",
    "value",
    "summary",
)


def _flatten(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [
            pair for k, v in value.items() for pair in _flatten(f"{prefix}.{k}" if prefix else k, v)
        ]
    if isinstance(value, list):
        if not value:
            return [(prefix, "")]
        return [pair for i, v in enumerate(value) for pair in _flatten(f"{prefix}[{i}]", v)]
    return [(prefix, "" if value is None else str(value))]


def history_csv(history: RequestHistory) -> str:
    """One table: the timeline, each decision record field by field, the access log, the check."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(csv_rows(history))
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (CSV injection)."""


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that would start a formula, behind an apostrophe (shown, not run)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(history: RequestHistory) -> Iterator[dict[str, Any]]:
    """The lines of :func:`history_csv` as dicts, every text cell spreadsheet-safe (the
    export over a range writes them too)."""
    for row in _csv_rows(history):
        yield {key: spreadsheet_safe(value) for key, value in row.items()}


def _csv_rows(history: RequestHistory) -> Iterator[dict[str, Any]]:
    for e in history.events:
        row = e.model_dump(mode="json")
        yield {"section": "event", **row}
    for a in history.agencies:
        for field, value in _flatten("", a.decision_record or {}):
            yield {"section": "decision", "agency": a.agency, "field": field, "value": value}
    for v in history.access_log:
        yield {
            "section": "access",
            "recorded_at": v.viewed_at.isoformat(),
            "actor_id": v.viewer_id,
            "actor_role": v.viewer_role.value,
            "actor_agency": v.viewer_agency or "",
            "field": "refused" if v.refused else "what",
            "value": v.what.value,
        }
    yield {
        "section": "verification",
        "field": "ok",
        "value": str(history.verification.ok).lower(),
        "summary": "; ".join(history.verification.problems),
    }


def export_templates() -> jinja2.Environment:
    """The printable exports' templates (one request, and a date range)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["record_lines"] = record_lines
    env.globals["details_lines"] = details_lines
    return env


def history_html(history: RequestHistory) -> str:
    """A printable page of the whole history (self-contained: no scripts, no links out)."""
    template = export_templates().get_template("audit_export.html")
    return template.render(
        history=history,
        generated_at=datetime.now(UTC),
    )


def export_request(history: RequestHistory, fmt: ExportFormat | str) -> str:
    """The audit export of one request, as JSON, CSV or a printable HTML page."""
    kind = ExportFormat(fmt)
    if kind is ExportFormat.JSON:
        return json.dumps(history_json(history), indent=2, ensure_ascii=False) + "\n"
    if kind is ExportFormat.CSV:
        return history_csv(history)
    return history_html(history)


MEDIA_TYPES = {
    ExportFormat.JSON: "application/json",
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.HTML: "text/html; charset=utf-8",
}
