"""What people may type: the rules every edge (API bodies, pages, CLI) applies to its input.

Free text may hold letters, marks, punctuation, spaces, tabs and line breaks, never
other control characters (NUL, escape, the C1 range) nor lone surrogates: they
cannot be shown, printed or sealed faithfully. Dates that describe a person or a
piece of information fall between 1900 and today. The holding agencies of a request
are distinct and never the requesting agency itself.

Each rule is one function here; the annotated types put it on a field, so a refusal
names the field and never echoes the value (which may be personal data).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    Strict,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

EARLIEST = date(1900, 1, 1)
"""No living person was born, and no item a hub shares was dated, before this."""

ALLOWED_CONTROLS = frozenset("\t\n\r")

REFUSED_RANGES = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff"
CONTROL_FREE_PATTERN = rf"^[^{REFUSED_RANGES}]*$"
""":func:`control_character_problem` as a regular expression (ECMA-262 and Python alike),
published as the ``pattern`` of every free-text field: text matches it exactly when the
rule lets it through."""

ONE_LINE_PATTERN = rf"^[^\n\r{REFUSED_RANGES}]+$"
"""Plain text on one line (no control character but a tab): what ``^[^\r\n]+$`` and
:data:`NO_CONTROLS` let through together."""

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def control_character_problem(value: str) -> str | None:
    """Why ``value`` is not plain text (it holds a control character), or ``None``."""
    for char in value:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in ALLOWED_CONTROLS) or category == "Cs":
            return f"must not contain control characters (found U+{ord(char):04X})"
    return None


def _plain(value: object) -> object:
    problem = control_character_problem(value) if isinstance(value, str) else None
    if problem is not None:
        raise ValueError(problem)
    return value


def _iso_date(value: object) -> object:
    """A date as JSON carries it: the text ``YYYY-MM-DD`` (or, from Python, a ``date``);
    never a number of seconds, nor a date and time."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("must be a date written as YYYY-MM-DD")


def latest_today(now: datetime | None = None) -> date:
    """The latest calendar date anywhere on earth now (UTC+14): a date of birth of 'today'
    is accepted wherever the hub's user is."""
    return ((now or datetime.now(UTC)) + timedelta(hours=14)).date()


def _not_before_1900(value: date) -> date:
    if value < EARLIEST:
        raise ValueError(f"must be on or after {EARLIEST.isoformat()}")
    return value


def _not_in_future(value: date) -> date:
    if value > latest_today():
        raise ValueError("must not be in the future")
    return value


@dataclass(frozen=True)
class NoControls:
    """Refuses control characters before anything else runs, and says so in the schema:
    its ``pattern`` is :data:`CONTROL_FREE_PATTERN`, or ``published`` when given (a field
    with a pattern of its own publishes both rules as one), or the field's own pattern
    when that is stricter already (an agency code)."""

    published: str | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(_plain, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        target = handler.resolve_ref_schema(json_schema)
        if self.published is not None:
            target["pattern"] = self.published
        else:
            target.setdefault("pattern", CONTROL_FREE_PATTERN)
        return json_schema


NO_CONTROLS = NoControls()
"""Put last in a field's ``Annotated[str, StringConstraints(...), NO_CONTROLS]``: refuses
control characters (tabs and line breaks allowed) in the text as sent, before any
whitespace is stripped (Python counts some control characters as whitespace)."""

PlainText = Annotated[str, NO_CONTROLS]
"""Any text without control characters (tabs and line breaks allowed); bound it yourself."""

IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date, sent as ``YYYY-MM-DD`` only (what the schema's ``format: date`` says)."""

Flag = Annotated[bool, Strict()]
"""Yes or no, sent as JSON ``true`` or ``false`` only (never ``1`` nor ``"yes"``)."""

ItemDate = Annotated[date, BeforeValidator(_iso_date), AfterValidator(_not_before_1900)]
"""The date of a piece of information: on or after 1900-01-01."""

DateOfBirth = Annotated[
    date,
    BeforeValidator(_iso_date),
    AfterValidator(_not_before_1900),
    AfterValidator(_not_in_future),
]
"""A person's date of birth: on or after 1900-01-01 and not in the future."""


def holding_agencies_problem(requesting: str | None, holders: Sequence[str]) -> str | None:
    """Why these holding agencies cannot be asked (empty, repeated, the requester), or ``None``."""
    if not holders:
        return "name at least one agency to ask"
    repeated = sorted({h for h in holders if holders.count(h) > 1})
    if repeated:
        return f"each agency may be asked only once ({', '.join(repeated)} is named twice)"
    if requesting is not None and requesting in holders:
        # The code inside, not first: a page starts the sentence with a capital.
        return (
            f"the requesting agency ({requesting}) consults its own records directly, "
            "it is not asked through the hub"
        )
    return None
