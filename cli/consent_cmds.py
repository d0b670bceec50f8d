"""``mashflow consent-withdrawn ID``: record that consent given for a decision was withdrawn.

Acts as the agency worker whose token the CLI holds; the agency is theirs. What follows
is the domain's (``domain.withdrawal``): before the decision the lawful basis is decided
again; after sending, the recipient agency is notified. Exit codes: 2 bad input, 3
refused (not a worker of the agency, consent not given, already withdrawn), 4 no such
request or decision, 5 not signed in.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from app.consent_withdrawal import record_withdrawal
from app.history import RequestNotFound
from cli.common import console, fail, run, settings_or_exit
from cli.directory_common import EXIT_NOT_FOUND, EXIT_USAGE, print_json
from cli.hub_common import JsonFlag, open_commands
from cli.identity import TokenFile, credential
from cli.request_ids import id_or_prefix, resolve
from domain.permissions import Action
from domain.vocabulary import ConsentGiver

GIVERS = ", ".join(g.value for g in ConsentGiver)


def register(app: typer.Typer) -> None:
    app.command("consent-withdrawn")(consent_withdrawn)


def consent_withdrawn(
    request_id: Annotated[
        str, typer.Argument(metavar="ID", help="The request's id, or its first 8 characters.")
    ],
    withdrawn_by: Annotated[str, typer.Option("--by", help=f"Who withdrew it: {GIVERS}.")],
    withdrawn_on: Annotated[
        str, typer.Option("--on", help="The day they withdrew it, YYYY-MM-DD.")
    ],
    scope: Annotated[
        str | None, typer.Option("--scope", help="What it covers, if not all of it.")
    ] = None,
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Record that consent given for your agency's decision on a request was withdrawn."""
    given = id_or_prefix(request_id, "ID")
    if withdrawn_by not in {g.value for g in ConsentGiver}:
        fail(f"--by: one of {GIVERS}", EXIT_USAGE)
    try:
        day = date.fromisoformat(withdrawn_on)
    except ValueError:
        fail("--on: give a date as YYYY-MM-DD", EXIT_USAGE)
    if scope is not None and not scope.strip():
        fail("--scope: say what the withdrawal covers, or leave it out", EXIT_USAGE)
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> tuple[str, int]:
        async with open_commands(settings) as hub:
            who = await hub.acting(cred, Action.DECIDE, doing="recording a consent withdrawal")
            assert who.agency is not None  # DECIDE is for an agency's own workers
            rid = await resolve(hub.infra.engine, given, "ID")
            try:
                version = await record_withdrawal(
                    hub.requests,
                    hub.infra.store,
                    hub.infra.outbox,
                    who,
                    rid,
                    who.agency,
                    withdrawn_by=ConsentGiver(withdrawn_by),
                    withdrawn_on=day,
                    scope=scope,
                    note=None,
                )
            except RequestNotFound:
                fail(f"no decision of {who.agency} on request {rid}", EXIT_NOT_FOUND)
            return str(rid), version

    rid, version = run(go())
    if as_json:
        print_json({"request_id": rid, "version": version})
    else:
        console.print(f"consent withdrawal recorded on request {rid}", highlight=False)
