"""``mashflow share``: a practitioner shares unsolicited with another agency.

Acts as the agency worker whose token the CLI holds (``MASHFLOW_TOKEN`` or
``--token-file PATH``); their own agency then walks the same decision steps as for a
request (``mashflow tasks``), and the recipient opens and acknowledges the package.
Exit codes as for ``mashflow requests open``: 2 bad input, 3 refused (not an agency
worker), 5 not signed in.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import pydantic
import typer

from app.proactive import NewProactiveShare, share_proactively
from app.request_inputs import SubjectDetails
from cli import case_options as case
from cli.common import EXIT_REFUSED, fail, run, settings_or_exit
from cli.directory_common import EXIT_USAGE
from cli.hub_common import JsonFlag, open_commands
from cli.identity import TokenFile, credential
from domain.errors import ValidationFailed, validation_failed
from domain.permissions import Action


def register(app: typer.Typer) -> None:
    app.command("share")(share)


def share(
    recipient: Annotated[str, typer.Option("--recipient", help="The agency to tell (its code).")],
    subject_name: case.SubjectName,
    subject_kind: case.SubjectKindOption,
    purpose_category: case.PurposeCategoryOption,
    purpose: Annotated[str, typer.Option("--purpose", help="Why they need to know now.")],
    information: Annotated[
        str, typer.Option("--information", help="What you mean to share, in outline.")
    ],
    rating: case.RatingOption,
    subject_dob: case.SubjectDob = None,
    idempotency_key: case.IdempotencyKey = None,
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Share unsolicited with another agency (agency worker), without a hub request; prints
    the id whose decision tasks then appear in your agency's inbox. With --idempotency-key,
    a rerun prints the same id, sharing nothing more."""
    dob = case.date_of_birth(subject_dob)
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
                fail(case.in_options(validation_failed(exc)), EXIT_USAGE)
            try:
                return await share_proactively(
                    hub.requests, who, new, idempotency_key=idempotency_key
                )
            except ValidationFailed as exc:  # the register's answer: refused, as before
                fail(case.in_options(exc), EXIT_REFUSED)

    case.print_started(run(go()), as_json)
