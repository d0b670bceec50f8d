"""``mashflow share``: a practitioner shares unsolicited with another agency.

Acts as the agency worker whose token the CLI holds (``MASHFLOW_TOKEN`` or
``--token-file PATH``); their own agency then walks the same decision steps as for a
request (``mashflow tasks``), and the recipient opens and acknowledges the package.
Exit codes as for ``mashflow requests open``: 2 bad input, 3 refused (not an agency
worker), 5 not signed in.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import pydantic
import typer

from app.proactive import NewProactiveShare, share_proactively
from app.requests import SubjectDetails
from cli.common import console, fail, run, settings_or_exit
from cli.directory_common import EXIT_USAGE, print_json
from cli.hub_common import JsonFlag, bad_input, open_commands
from cli.identity import TokenFile, credential
from domain.permissions import Action
from domain.vocabulary import PurposeCategory, SubjectKind

CATEGORIES = ", ".join(c.value for c in PurposeCategory)
KINDS = ", ".join(k.value for k in SubjectKind)


def register(app: typer.Typer) -> None:
    app.command("share")(share)


def share(
    recipient: Annotated[str, typer.Option("--recipient", help="The agency to tell (its code).")],
    subject_name: Annotated[str, typer.Option("--subject-name", help="Who it is about.")],
    subject_kind: Annotated[str, typer.Option("--subject-kind", help=f"One of: {KINDS}.")],
    purpose_category: Annotated[
        str, typer.Option("--purpose-category", help=f"One of: {CATEGORIES}.")
    ],
    purpose: Annotated[str, typer.Option("--purpose", help="Why they need to know now.")],
    information: Annotated[
        str, typer.Option("--information", help="What you mean to share, in outline.")
    ],
    rating: Annotated[str, typer.Option("--rating", help="red, amber or green.")],
    subject_dob: Annotated[
        str | None, typer.Option("--subject-dob", help="Date of birth, YYYY-MM-DD.")
    ] = None,
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Share unsolicited with another agency (agency worker), without a hub request; prints
    the id whose decision tasks then appear in your agency's inbox."""
    try:
        dob = date.fromisoformat(subject_dob) if subject_dob else None
    except ValueError:
        fail("--subject-dob: give a date as YYYY-MM-DD", EXIT_USAGE)
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> uuid.UUID:
        async with open_commands(settings) as hub:
            who = await hub.acting(cred, Action.SHARE_PROACTIVELY, doing="sharing proactively")
            try:
                new = NewProactiveShare(
                    subject=SubjectDetails(name=subject_name, date_of_birth=dob),
                    subject_kind=subject_kind,
                    recipient_agency=recipient,
                    purpose_category=purpose_category,
                    purpose=purpose,
                    information=information,
                    rating=rating,
                )
            except pydantic.ValidationError as exc:
                fail(bad_input(exc), EXIT_USAGE)
            return await share_proactively(hub.requests, who, new)

    request_id = run(go())
    if as_json:
        print_json({"request_id": str(request_id)})
    else:
        console.print(str(request_id), highlight=False)
