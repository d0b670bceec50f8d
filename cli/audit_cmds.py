"""``mashflow verify | history | export``: the compliance officer's tools.

``export`` takes one request's id, or ``--from``/``--to`` for every request opened
in a date range (streamed; see :mod:`app.export_range`).

They read the configured database (``MASHFLOW_DATABASE_URL``) or start the
embedded one for the command. Without ``--reveal`` they need no sign-in. With
it, personal data is opened for a person: a compliance officer whose token the
CLI holds (``MASHFLOW_TOKEN`` or ``--token-file PATH``, see ``cli.identity``),
recorded as the viewer in each request's access log before anything is shown.

Exit codes: 0 fine, 1 the store failed verification, 2 usage or configuration,
3 a reveal by someone other than a compliance officer, 4 no such request, 5 a
reveal without a valid token (none, or one not valid or revoked).
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from app import wording
from app.access import viewed_history
from app.container import Infrastructure, open_infrastructure
from app.export import ExportFormat, export_request, history_json, report_json
from app.export_range import (
    DateRange,
    InvalidRange,
    date_range,
    export_chunks,
    histories,
    parse_day,
)
from app.history import RequestHistory, RequestNotFound, verify_store
from app.request_timeline import on_hub_clock
from app.timetext import sortable_time
from cli.common import EXIT_FAILED, console, err_console, fail, progress_bar, run, settings_or_exit
from cli.directory_common import EXIT_NOT_FOUND, EXIT_USAGE, print_json
from cli.identity import Credential, TokenFile, acting_user, credential
from cli.private_files import private_file
from cli.request_ids import id_or_prefix, resolve
from domain.events.access import ViewKind
from domain.models import Actor
from domain.permissions import Action
from infra.crypto import Keyring
from infra.eventstore import EventStore
from infra.settings import Settings
from infra.stack import running_stack

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
    app.command("history")(history)
    app.command("export")(export)


@dataclass(frozen=True)
class Audit:
    infra: Infrastructure

    @property
    def store(self) -> EventStore:
        return self.infra.store

    @property
    def keyring(self) -> Keyring:
        return self.infra.keyring

    async def viewer(self, cred: Credential) -> Actor:
        """The compliance officer signed in: who a reveal is recorded against."""
        return await acting_user(
            self.infra, cred, Action.REPLAY_HISTORY, doing="revealing personal data"
        )


@contextlib.asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Audit]:
    async with (
        running_stack(settings, ui=False, temporal=False) as stack,
        open_infrastructure(stack.settings) as infra,
    ):
        yield Audit(infra)


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail("--as-of: give an ISO 8601 time, e.g. 2026-03-02T10:00:00+00:00", EXIT_USAGE)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def verify(
    trusted_digest: Annotated[
        str | None,
        typer.Option("--trusted-digest", help="A digest exported earlier, kept outside the DB."),
    ] = None,
    checkpoint: Annotated[
        bool, typer.Option("--checkpoint", help="Take a checkpoint of every stream head first.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Walk the whole event store and report every changed, removed or inserted event.

    The log's checkpoints are compared with the anchor (MASHFLOW_ANCHOR_DIR, by default
    <data dir>/anchor): a checkpoint missing or differing on either side is reported."""
    settings = settings_or_exit()
    anchor_dir = settings.checkpoint_anchor_dir()

    async def go() -> bool:
        async with open_store(settings) as audit:
            with progress_bar("verifying", quiet=as_json) as progress:
                report = await verify_store(
                    audit.store,
                    progress,
                    trusted_digest=trusted_digest,
                    checkpoint_first=checkpoint,
                )
        if as_json:
            print_json(report_json(report))
            return report.ok
        for p in report.findings:
            where = "-" if p.version is None else str(p.version)
            console.print(
                f"[bold red]{p.kind.value}[/] stream={p.stream_id} version={where}: {p.detail}",
                highlight=False,
                soft_wrap=True,
            )
        verdict = (
            "[green]intact[/]"
            if report.ok
            else f"[bold red]{wording.count(len(report.findings), 'problem')}[/]"
        )
        console.print(
            f"{verdict}: {report.events_checked} events, "
            f"{report.checkpoints_checked} checkpoints checked, "
            f"{report.anchored_checked} against the anchor at {anchor_dir}",
            highlight=False,
            soft_wrap=True,
        )
        if report.checkpoint_digest:
            console.print(f"checkpoint digest: {report.checkpoint_digest}", highlight=False)
        else:
            console.print("no checkpoint yet: run with --checkpoint to take one", highlight=False)
        return report.ok

    if not run(go()):
        raise SystemExit(EXIT_FAILED)


def _reveal_credential(reveal: bool, token_file: Path | None) -> Credential | None:
    """A reveal is a person's act: their token, read before anything else is done."""
    if token_file is not None and not reveal:
        fail("--token-file: only a --reveal needs signing in", EXIT_USAGE)
    return credential(token_file) if reveal else None


async def _history(
    settings: Settings,
    given: uuid.UUID | str,
    as_of: datetime | None,
    cred: Credential | None,
    what: ViewKind,
) -> RequestHistory:
    async with open_store(settings) as audit:
        viewer = await audit.viewer(cred) if cred is not None else None
        request_id = await resolve(audit.infra.engine, given, "REQUEST_ID")
        try:
            return await viewed_history(
                audit.store, audit.keyring, request_id, viewer, what, as_of=as_of
            )
        except RequestNotFound as exc:
            fail(str(exc), EXIT_NOT_FOUND)


def history(
    request_id: Annotated[
        str,
        typer.Argument(
            metavar="REQUEST_ID", help="The request's id, or its first 8 characters or more."
        ),
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Show what was known at this ISO 8601 time.")
    ] = None,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal",
            help="Open personal data: a compliance officer's token; the view is recorded.",
        ),
    ] = False,
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """A request's history: every event in order, its state replayed, the integrity check."""
    parsed, when = id_or_prefix(request_id, "REQUEST_ID"), _as_of(as_of)
    cred = _reveal_credential(reveal, token_file)
    settings = settings_or_exit()
    found = run(_history(settings, parsed, when, cred, ViewKind.HISTORY))
    if as_json:
        print_json(history_json(found))
    else:
        _print_history(found, settings.hub_policy().calendar.timezone)
    if not found.verification.ok:
        raise SystemExit(EXIT_FAILED)


def _print_history(h: RequestHistory, zone: str) -> None:
    """The timeline as a table, its times on the hub's clock (``zone``) with the zone's
    abbreviation, as the pages and the printable export show them (``--json``: UTC)."""
    title = f"request {h.request_id}" + (
        f" as of {sortable_time(h.as_of, zone)}" if h.as_of else ""
    )
    table = Table(title=title)
    for column in ("#", "recorded", "what", "actor", "stream"):
        table.add_column(column)
    for i, e in enumerate(h.events, 1):
        actor = e.actor_id or "system"
        if e.actor_role:
            actor += f" ({e.actor_role}{', ' + e.actor_agency if e.actor_agency else ''})"
        table.add_row(
            str(i),
            sortable_time(e.recorded_at, zone),
            on_hub_clock(e.summary, zone),
            actor,
            f"{e.stream_id}@{e.version}",
        )
    console.print(table)
    if h.request is not None:
        state = h.request.status.value
        console.print(f"state: {state}, rated {h.request.rating.value}", highlight=False)
        for p in h.request.agencies:
            outcome = p.outcome.value if p.outcome else "undecided"
            console.print(f"  {p.agency}: {p.status.value}, {outcome}", highlight=False)
    for a in h.agencies:
        if h.revealed and a.decision_record:
            console.print(f"decision record of {a.agency}:", highlight=False)
            console.print_json(data=a.decision_record)
    if h.access_log:
        console.print(
            f"personal data viewed {wording.count(len(h.access_log), 'time')}", highlight=False
        )
    if h.verification.ok:
        console.print("[green]verified[/]: every stream of this request is intact")
    else:
        for problem in h.verification.problems:
            console.print(f"[bold red]broken[/]: {problem}", highlight=False, soft_wrap=True)


def export(
    request_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[REQUEST_ID]", help="The request's id (or give --from and --to instead)."
        ),
    ] = None,
    first: Annotated[
        str | None,
        typer.Option(
            "--from", help="Export every request opened from this day (YYYY-MM-DD, UTC) on."
        ),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option(
            "--to", help="The range's last day, included (at most 366 days after --from)."
        ),
    ] = None,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="json, csv or html.")
    ] = ExportFormat.JSON,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal",
            help="Include personal data: a compliance officer's token; the view is recorded.",
        ),
    ] = False,
    token_file: TokenFile = None,
) -> None:
    """Export one request's audit record (timeline, decision records, access log, check), or
    those of every request opened in a date range, streamed a request at a time."""
    if request_id is not None and (first is not None or last is not None):
        fail("give REQUEST_ID or --from and --to, not both", EXIT_USAGE)
    if output is not None and not output.parent.is_dir():
        fail(f"--output: there is no directory {output.parent}", EXIT_USAGE)
    if request_id is None:
        if first is None or last is None:
            fail("give REQUEST_ID, or --from and --to for a date range", EXIT_USAGE)
        try:
            span = date_range(parse_day("from", first), parse_day("to", last))
        except InvalidRange as exc:
            fail(f"--{exc.field}: {exc.message}", EXIT_USAGE)
        cred = _reveal_credential(reveal, token_file)
        settings = settings_or_exit()
        count = run(_export_range(settings, span, fmt, output, cred))
        where = f" to {output}" if output is not None else ""
        err_console.print(
            f"exported {wording.count(count, 'request')} opened {span.first.isoformat()} to "
            f"{span.last.isoformat()} as {fmt.value}{where}",
            highlight=False,
        )
        return
    parsed = id_or_prefix(request_id, "REQUEST_ID")
    cred = _reveal_credential(reveal, token_file)
    settings = settings_or_exit()
    found = run(_history(settings, parsed, None, cred, ViewKind.EXPORT))
    text = export_request(found, fmt, zone=settings.hub_policy().calendar.timezone)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        with private_file(output) as sink:
            sink.write(text)
        err_console.print(f"wrote {fmt.value} export to {output}", highlight=False)


async def _export_range(
    settings: Settings,
    span: DateRange,
    fmt: ExportFormat,
    output: Path | None,
    cred: Credential | None,
) -> int:
    """Stream the export to stdout or the file as each request is read; returns the count."""
    count = 0
    zone = settings.hub_policy().calendar.timezone
    async with open_store(settings) as audit:
        viewer = await audit.viewer(cred) if cred is not None else None
        reveal = viewer is not None
        found = histories(audit.store, audit.keyring, span, reveal=reveal, viewer=viewer)

        async def counted() -> AsyncIterator[RequestHistory]:
            nonlocal count
            async for history in found:
                count += 1
                yield history

        if output is None:
            async for chunk in export_chunks(counted(), span, fmt, revealed=reveal, zone=zone):
                sys.stdout.write(chunk)
            sys.stdout.flush()
        else:  # owner-only, moved in place when complete, never through a link
            with private_file(output) as sink:
                async for chunk in export_chunks(counted(), span, fmt, revealed=reveal, zone=zone):
                    sink.write(chunk)
    return count
