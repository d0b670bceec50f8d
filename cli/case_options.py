"""What ``mashflow requests open`` and ``mashflow share`` both take and print: the options
about the person and the urgency, the date of birth read from ``--subject-dob``, and the
id of the case started."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer

from cli.common import console, fail
from cli.directory_common import EXIT_USAGE, print_json
from domain.errors import ValidationFailed
from domain.vocabulary import PurposeCategory, SubjectKind


def choices(enum: type[StrEnum]) -> str:
    return ", ".join(e.value for e in enum)


SubjectName = Annotated[str, typer.Option("--subject-name", help="Who it is about.")]
SubjectKindOption = Annotated[
    str, typer.Option("--subject-kind", help=f"One of: {choices(SubjectKind)}.")
]
PurposeCategoryOption = Annotated[
    str, typer.Option("--purpose-category", help=f"One of: {choices(PurposeCategory)}.")
]
RatingOption = Annotated[str, typer.Option("--rating", help="red, amber or green.")]
SubjectDob = Annotated[str | None, typer.Option("--subject-dob", help="Date of birth, YYYY-MM-DD.")]
IdempotencyKey = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help=(
            "A new random value (such as a UUID) for this one opening: run again with the same "
            "key and the same details, it prints the same id and opens nothing; with other "
            "details it is refused."
        ),
    ),
]


def date_of_birth(subject_dob: str | None) -> date | None:
    """``--subject-dob`` as a date (none when not given); exits 2 when it is not one."""
    try:
        return date.fromisoformat(subject_dob) if subject_dob else None
    except ValueError:
        fail("--subject-dob: give a date as YYYY-MM-DD", EXIT_USAGE)


_OPTION_OF = {
    "name": "--subject-name",
    "date_of_birth": "--subject-dob",
    "address": "--subject-address",
    "holding_agencies": "--holder",
    "recipient_agency": "--recipient",
    "Idempotency-Key": "--idempotency-key",
}


def in_options(error: ValidationFailed) -> str:
    """A refused field named by the option that gave it (``--holder``, not the body's
    ``holding_agencies``), with the rule's own words."""
    field = error.field.removeprefix("subject.").split(".")[0]
    option = _OPTION_OF.get(field, "--" + field.replace("_", "-"))
    return f"{option}: {str(error).removeprefix(f'{error.field}: ')}"


def print_started(request_id: uuid.UUID, as_json: bool) -> None:
    """The id of the request or share just started, alone on its line or as JSON."""
    if as_json:
        print_json({"request_id": str(request_id)})
    else:
        console.print(str(request_id), highlight=False)
