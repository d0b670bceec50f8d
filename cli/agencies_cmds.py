"""``mashflow agencies add | list | add-protocol``: the hub's register."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from app.wording import count
from cli.common import console, fail, run, settings_or_exit
from cli.directory_common import EXIT_USAGE, open_directory, print_json
from domain.vocabulary import AgencyKind
from infra.directory import AGENCY_CODE, RegisteredAgency, RegisteredIsp
from infra.users import OPERATOR

agencies_app = typer.Typer(
    help="The register of agencies and information sharing protocols.", no_args_is_help=True
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
KINDS = ", ".join(k.value for k in AgencyKind)


def register(app: typer.Typer) -> None:
    app.add_typer(agencies_app, name="agencies")


def agency_json(agency: RegisteredAgency) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name": agency.name,
        "kind": agency.kind.value,
        "public_authority": agency.public_authority,
        "public_key": agency.public_key,
        "created_at": agency.created_at.isoformat(),
    }


def protocol_json(protocol: RegisteredIsp) -> dict[str, Any]:
    return {
        "id": str(protocol.id),
        "agencies": list(protocol.agencies),
        "title": protocol.title,
        "reference": protocol.reference,
        "valid_from": protocol.valid_from.isoformat(),
        "valid_to": protocol.valid_to.isoformat() if protocol.valid_to else None,
    }


def _code(value: str, option: str) -> str:
    if not AGENCY_CODE.fullmatch(value):
        fail(f"{option}: 2-40 lower-case letters, digits or '_', starting with a letter", 2)
    return value


@agencies_app.command("add")
def add(
    code: Annotated[
        str,
        typer.Argument(
            help="Short code: 2-40 lower-case letters, digits or _, e.g. police or csc_north."
        ),
    ],
    name: Annotated[str, typer.Option("--name", help="The agency's name.")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of: {KINDS}.")],
    public_authority: Annotated[
        bool | None,
        typer.Option(
            "--public-authority/--not-public-authority",
            help="Whether it is a public authority (default: every kind but voluntary_sector).",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register an agency; its transfer keypair is made now (private half wrapped by the KEK)."""
    _code(code, "CODE")
    if kind not in {k.value for k in AgencyKind}:
        fail(f"--kind: must be one of {KINDS}", EXIT_USAGE)
    settings = settings_or_exit()

    async def go() -> None:
        async with open_directory(settings) as directory:
            agency = await directory.agencies.add(
                code, name, AgencyKind(kind), public_authority=public_authority
            )
        if as_json:
            print_json(agency_json(agency))
        else:
            console.print(f"added agency {agency.code} ({agency.kind.value}, {_status(agency)})")
            console.print(f"public key: {agency.public_key}", highlight=False)

    run(go())


@agencies_app.command("list")
def list_agencies(as_json: JsonFlag = False) -> None:
    """The register: agencies with their public keys, then the protocols between them."""
    settings = settings_or_exit()

    async def go() -> None:
        async with open_directory(settings) as directory:
            agencies = await directory.agencies.list()
            protocols = await directory.agencies.protocols()
        if as_json:
            print_json(
                {
                    "agencies": [agency_json(a) for a in agencies],
                    "protocols": [protocol_json(p) for p in protocols],
                }
            )
            return
        table = Table(title=count(len(agencies), "agency", "agencies"))
        for column in ("code", "name", "kind", "public authority", "public key"):
            table.add_column(column, overflow="fold")
        for a in agencies:
            table.add_row(
                a.code, a.name, a.kind.value, "yes" if a.public_authority else "no", a.public_key
            )
        console.print(table)
        if protocols:
            isps = Table(title=count(len(protocols), "information sharing protocol"))
            for column in ("between", "title", "reference", "valid"):
                isps.add_column(column)
            for p in protocols:
                valid = f"{p.valid_from} to {p.valid_to}" if p.valid_to else f"from {p.valid_from}"
                isps.add_row(" & ".join(p.agencies), p.title, p.reference, valid)
            console.print(isps)

    run(go())


@agencies_app.command("set-public-authority")
def set_public_authority(
    code: Annotated[str, typer.Argument(help="The agency's code.")],
    answer: Annotated[str, typer.Argument(help="yes or no.", metavar="yes|no")],
    as_json: JsonFlag = False,
) -> None:
    """Record whether a registered agency is a public authority. The rules read it (public
    task is for public authorities); the change is recorded as a register event."""
    _code(code, "CODE")
    if answer not in {"yes", "no"}:
        fail("ANSWER: give yes or no", EXIT_USAGE)
    settings = settings_or_exit()

    async def go() -> None:
        async with open_directory(settings) as directory:
            agency = await directory.agencies.set_public_authority(
                code, answer == "yes", by=OPERATOR, by_role=OPERATOR
            )
        if as_json:
            print_json(agency_json(agency))
        else:
            console.print(f"agency {agency.code}: {_status(agency)}")

    run(go())


def _status(agency: RegisteredAgency) -> str:
    return "a public authority" if agency.public_authority else "not a public authority"


@agencies_app.command("add-protocol")
def add_protocol(
    first: Annotated[str, typer.Argument(help="One agency's code.")],
    second: Annotated[str, typer.Argument(help="The other agency's code.")],
    title: Annotated[str, typer.Option("--title")],
    reference: Annotated[str, typer.Option("--reference", help="The protocol's own reference.")],
    valid_from: Annotated[str, typer.Option("--from", help="YYYY-MM-DD")],
    valid_to: Annotated[
        str | None, typer.Option("--to", help="YYYY-MM-DD; open-ended if absent")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an information sharing protocol between two registered agencies."""
    _code(first, "FIRST")
    _code(second, "SECOND")
    start = _date(valid_from, "--from")
    end = _date(valid_to, "--to") if valid_to else None
    settings = settings_or_exit()

    async def go() -> None:
        async with open_directory(settings) as directory:
            protocol = await directory.agencies.add_protocol(
                first, second, title=title, reference=reference, valid_from=start, valid_to=end
            )
        if as_json:
            print_json(protocol_json(protocol))
        else:
            console.print(f"added protocol {protocol.id} between {' & '.join(protocol.agencies)}")

    run(go())


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: not a date (YYYY-MM-DD)", EXIT_USAGE)
