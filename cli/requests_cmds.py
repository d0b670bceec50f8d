"""``mashflow requests open | list | show``: sharing requests from the command line.

``open`` starts a request as the coordinator whose token the CLI holds
(``MASHFLOW_TOKEN`` or ``--token-file PATH``, see ``cli.identity``); the event
records their user id, role and agency. ``list`` and ``show`` read the read
models: ids, agency codes, ratings and deadlines, never personal data. Exit
codes: 0 fine, 2 bad input or configuration, 3 refused by the hub's rules (a
role other than coordinator), 4 no such request, 5 not signed in (no token, or
one that is not valid or has been revoked).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import pydantic
import typer
from rich.table import Table

from app.queries import RequestSummary
from app.request_inputs import NewRequest, SubjectDetails
from app.requester import check_requester
from app.timetext import local_time
from app.wording import count
from cli import case_options as case
from cli.common import EXIT_REFUSED, console, fail, run, settings_or_exit
from cli.directory_common import EXIT_NOT_FOUND, EXIT_USAGE, print_json
from cli.hub_common import JsonFlag, open_commands, open_records
from cli.identity import TokenFile, credential
from cli.request_ids import id_or_prefix, resolve
from domain.errors import ValidationFailed, validation_failed
from domain.permissions import Action

requests_app = typer.Typer(
    help="Sharing requests: open one, list them, show one's progress.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(requests_app, name="requests")


def summary_json(s: RequestSummary, now: datetime) -> dict[str, Any]:
    return s.model_dump(mode="json") | {"overdue": s.overdue(now)}


@requests_app.command("open")
def open_request(
    subject_name: case.SubjectName,
    subject_kind: case.SubjectKindOption,
    requesting_agency: Annotated[
        str, typer.Option("--requesting-agency", help="The agency that asks (its code).")
    ],
    holders: Annotated[
        list[str], typer.Option("--holder", help="An agency asked to share; repeat for more.")
    ],
    purpose_category: case.PurposeCategoryOption,
    purpose: Annotated[str, typer.Option("--purpose", help="Why the information is needed.")],
    information_sought: Annotated[str, typer.Option("--information-sought")],
    rating: case.RatingOption,
    subject_dob: case.SubjectDob = None,
    subject_address: Annotated[str | None, typer.Option("--subject-address")] = None,
    requested_by: Annotated[
        str | None,
        typer.Option(
            "--requested-by",
            help="Who in the requesting agency asks (default: your user id, as the API records).",
        ),
    ] = None,
    consent_already_held: Annotated[bool, typer.Option("--consent-already-held")] = False,
    allegation_against_staff: Annotated[
        bool,
        typer.Option(
            "--allegation-against-staff",
            help="About an allegation against someone who works with children (kept longer).",
        ),
    ] = False,
    idempotency_key: case.IdempotencyKey = None,
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Open a sharing request, as the coordinator signed in, and print its id. Personal data
    is sealed at once. With --idempotency-key, a rerun prints the same id, opening nothing."""
    dob = case.date_of_birth(subject_dob)
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> uuid.UUID:
        async with open_commands(settings) as hub:
            who = await hub.acting(cred, Action.OPEN_REQUEST, doing="opening a request")
            try:
                new = NewRequest(
                    subject=SubjectDetails(
                        name=subject_name, date_of_birth=dob, address=subject_address
                    ),
                    subject_kind=subject_kind,
                    requesting_agency=requesting_agency,
                    requested_by=requested_by or who.user_id,
                    holding_agencies=holders,
                    purpose_category=purpose_category,
                    purpose=purpose,
                    information_sought=information_sought,
                    rating=rating,
                    consent_already_held=consent_already_held,
                    allegation_against_staff=allegation_against_staff,
                )
            except pydantic.ValidationError as exc:
                fail(case.in_options(validation_failed(exc)), EXIT_USAGE)
            try:
                await check_requester(
                    hub.infra.users, new.requested_by, new.requesting_agency, who.user_id
                )
                return await hub.requests.open_request(who, new, idempotency_key=idempotency_key)
            except ValidationFailed as exc:  # the register's answer: refused, as before
                fail(case.in_options(exc), EXIT_REFUSED)

    case.print_started(run(go()), as_json)


@requests_app.command("list")
def list_requests(
    status: Annotated[
        str | None, typer.Option("--status", help="open, closed or withdrawn.")
    ] = None,
    rating: Annotated[str | None, typer.Option("--rating", help="red, amber or green.")] = None,
    agency: Annotated[
        str | None, typer.Option("--agency", help="Requests this agency asks or is asked in.")
    ] = None,
    overdue: Annotated[
        bool | None,
        typer.Option("--overdue/--not-overdue", help="Only those past (or within) deadline."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 200,
    as_json: JsonFlag = False,
) -> None:
    """Requests, most urgent first (overdue, then by time left), from the read models
    (no personal data)."""
    if status is not None and status not in ("open", "closed", "withdrawn"):
        fail("--status: must be one of open, closed, withdrawn", EXIT_USAGE)
    if rating is not None and rating not in ("red", "amber", "green"):
        fail("--rating: must be one of red, amber, green", EXIT_USAGE)
    settings = settings_or_exit()
    now = datetime.now(UTC)

    async def go() -> list[RequestSummary]:
        async with open_records(settings) as hub:
            return await hub.queries.list_requests(
                status=status, rating=rating, agency=agency, overdue=overdue, now=now, limit=limit
            )

    found = run(go())
    if as_json:
        print_json([summary_json(s, now) for s in found])
        return
    zone = settings.hub_policy().calendar.timezone
    table = Table(title=count(len(found), "request"))
    for column in ("id", "rating", "status", "from", "asked", "opened", "decision due"):
        table.add_column(column)
    for s in found:
        due = local_time(s.decision_due_at, zone)
        if s.overdue(now):
            due = f"[bold red]{due} overdue[/]"
        table.add_row(
            str(s.request_id),
            s.rating,
            s.status,
            s.requesting_agency,
            ", ".join(a.agency for a in s.agencies),
            local_time(s.opened_at, zone),
            due,
        )
    console.print(table)


@requests_app.command("show")
def show(
    request_id: Annotated[
        str,
        typer.Argument(metavar="ID", help="The request's id, or its first 8 characters or more."),
    ],
    as_json: JsonFlag = False,
) -> None:
    """One request's progress: each holding agency's status and deadline (no personal data)."""
    given = id_or_prefix(request_id, "ID")
    settings = settings_or_exit()
    now = datetime.now(UTC)

    async def go() -> RequestSummary | None:
        async with open_records(settings) as hub:
            return await hub.queries.get_request(await resolve(hub.infra.engine, given, "ID"))

    found = run(go())
    if found is None:
        fail(f"no request {given}", EXIT_NOT_FOUND)
    if as_json:
        print_json(summary_json(found, now))
        return
    zone = settings.hub_policy().calendar.timezone
    state = found.status + (" [bold red](overdue)[/]" if found.overdue(now) else "")
    console.print(f"request {found.request_id}: {state}, rated {found.rating}", highlight=False)
    console.print(
        f"from {found.requesting_agency}, opened {local_time(found.opened_at, zone)}, "
        f"decisions due {local_time(found.decision_due_at, zone)}",
        highlight=False,
    )
    table = Table()
    for column in ("agency", "status", "outcome", "decided", "on time", "missed"):
        table.add_column(column)
    for a in found.agencies:
        table.add_row(
            a.agency,
            a.status,
            a.outcome or "-",
            local_time(a.decided_at, zone) if a.decided_at else "-",
            "-" if a.on_time is None else ("yes" if a.on_time else "no"),
            ", ".join(a.missed) or "-",
        )
    console.print(table)
