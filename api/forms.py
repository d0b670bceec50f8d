"""Every page form: a pydantic form model, and one :func:`attempt` that runs its use case.

A form is read into a :class:`PageForm` (its fields are the inputs' names, as typed:
strings, lists for checkboxes, dates as day / month / year). :func:`attempt` checks
what the form itself can (required answers, real dates), turns the form into the use
case's input and runs it. When anything is refused, it answers a :class:`Refused`: every
value as typed and a plain-English message per field, which the page renders again
(one "values + errors" structure, the same one a restored draft fills). Where the
refusal comes from:

- the form (a blank required answer, a date that is not a real date): the model's own
  messages (``REQUIRED``, :func:`read_date`);
- the use case's input model (pydantic): the field the error's path names;
- a failure rather than a refusal (the workflow engine or the store did not answer):
  the whole form, 503, every value kept (a task's step sent again runs once);
- the domain: :class:`~domain.errors.ValidationFailed` at its field; each problem of an
  :class:`~domain.errors.InconsistentDecision` at the field its code is about
  (``PROBLEMS``: code -> field and words), never the validator's text when the code
  has words of its own; a step no longer open (:class:`~domain.errors.InvalidState`)
  for the whole form, 409.

A refusal of who is acting (:class:`~domain.errors.NotPermitted`) is never shown in a
form: it goes to the error handlers, which answer 403.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar, Self, TypeVar, get_origin

import pydantic
import structlog
from pydantic import BaseModel, ConfigDict
from starlette.datastructures import FormData
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError

from domain.errors import (
    DomainError,
    InconsistentDecision,
    InvalidState,
    NotPermitted,
    Problem,
    ValidationFailed,
)

log = structlog.get_logger(__name__)

T = TypeVar("T")
FAILURES: tuple[type[BaseException], ...] = (
    RPCError,
    WorkflowUpdateFailedError,
    TimeoutError,
    ConnectionError,
)
"""The use case failed rather than refused: the workflow engine or the store did not answer."""
FAILED = (
    "This could not be completed just now and may not have been recorded. What you typed is "
    "kept below: try again in a moment"
)
FORM = "form"
"""The key of a message about the whole form rather than one field."""


@dataclass(frozen=True)
class Refused:
    """A form to show again: what was typed, the messages by field, the HTTP status."""

    values: Mapping[str, Any]
    errors: dict[str, str]
    status: int = 422


@dataclass(frozen=True)
class FormState:
    """What a form is rendered from: values (typed, restored or recorded) and messages."""

    values: Mapping[str, Any] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, refused: Refused) -> FormState:
        return cls(refused.values, refused.errors)


class FieldErrors(Exception):  # noqa: N818 - a form's own refusal, caught by attempt()
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("the form has errors")
        self.errors = errors


def blank(value: object) -> bool:
    """Nothing given: no text but spaces, or no choice ticked."""
    return not value.strip() if isinstance(value, str) else not value


def sentence(message: str) -> str:
    """A message as the page shows it: a capital first letter, no trailing full stop."""
    message = message.strip().removeprefix("Value error, ").rstrip(".")
    return message[:1].upper() + message[1:]


class PageForm(BaseModel):
    """A page's form, field for input. Text is kept as typed; blanks are ``""``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    REQUIRED: ClassVar[Mapping[str, str]] = {}
    """Field -> what to say when it is left blank (GOV.UK: "Select ...", "Enter ...")."""
    CHOICES: ClassVar[Mapping[str, frozenset[str]]] = {}
    """Field -> the answers its radios, checkboxes or select offer: anything else (a page
    sent by hand) is refused with the field's ``REQUIRED`` message, never kept."""
    DATES: ClassVar[Mapping[str, str]] = {}
    """Date field -> its name in a message ("the review date"); typed in the boxes
    ``<name>-day``, ``<name>-month`` and ``<name>-year``, kept as ``<name>_day`` (...)."""

    @classmethod
    def raw(cls, form: FormData | Mapping[str, Any]) -> dict[str, Any]:
        """The form's fields as typed (lists for list fields), nothing else."""
        values: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            if get_origin(info.annotation) is list:
                given = form.get(name)
                got: list[Any] = (
                    form.getlist(name)
                    if isinstance(form, FormData)
                    else (given if isinstance(given, list) else [])
                )
                values[name] = [v for v in got if isinstance(v, str)]
            else:
                value = form.get(name)
                values[name] = value if isinstance(value, str) else ""
        for name in cls.DATES:  # a GOV.UK date input's boxes: <name>-day, -month, -year
            for part in ("day", "month", "year"):
                value = form.get(f"{name}-{part}", form.get(f"{name}_{part}"))
                values[f"{name}_{part}"] = value if isinstance(value, str) else ""
        return values

    @classmethod
    def read(cls, values: Mapping[str, Any]) -> Self:
        return cls.model_validate(values)

    def values(self) -> dict[str, Any]:
        return self.model_dump()

    def check(self) -> dict[str, str]:
        """What the form itself refuses: blank required answers, dates that are not dates."""
        errors = {
            name: message for name, message in self.REQUIRED.items() if blank(getattr(self, name))
        }
        for name, offered in self.CHOICES.items():
            given = getattr(self, name)
            chosen = given if isinstance(given, list) else [given] if given else []
            if name not in errors and any(value not in offered for value in chosen):
                errors[name] = self.REQUIRED.get(name, "Select one of the options")
        for name in self.DATES:
            try:
                self.date(name)
            except FieldErrors as exc:
                errors.update(exc.errors)
        return errors

    def date(self, name: str) -> date | None:
        """The date typed as ``<name>_day/_month/_year``; ``None`` when all three are blank."""
        parts = [str(getattr(self, f"{name}_{p}")) for p in ("day", "month", "year")]
        return read_date(name, self.DATES.get(name, "the date"), *parts)

    def body(self) -> dict[str, Any]:
        """The use case's input, as its model reads it: the form's own fields, unless a
        form's input is shaped otherwise (dates in three boxes, lists), where it says so."""
        return self.model_dump()


def read_date(name: str, noun: str, day: str, month: str, year: str) -> date | None:
    """A GOV.UK date input's three parts as a date, refused in words (at ``name``)."""
    parts = {"day": day.strip(), "month": month.strip(), "year": year.strip()}
    if not any(parts.values()):
        return None
    title = sentence(noun)
    missing = [p for p, v in parts.items() if not v]
    if missing:
        raise FieldErrors({name: f"{title} must include a {' and a '.join(missing)}"})
    if not all(v.isdigit() for v in parts.values()) or len(parts["year"]) != 4:
        raise FieldErrors({name: f"{title} must be a real date, with a four-digit year"})
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    except ValueError:
        raise FieldErrors({name: f"{title} must be a real date"}) from None


def date_parts(value: date | None) -> dict[str, str]:
    """A recorded date as a date input's values."""
    if value is None:
        return {"day": "", "month": "", "year": ""}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


# -- where refusals go --------------------------------------------------------------------

ITEM = re.compile(r"\bitem (\d+)\b")


@dataclass(frozen=True)
class Place:
    """Where a domain problem is shown, and in what words (``None``: the domain's own)."""

    field: str
    words: str | None = None


def _path_field(loc: tuple[int | str, ...], renames: Mapping[str, str]) -> str:
    path = [str(p) for p in loc]
    if path[:1] == ["items"] and len(path) > 2:
        return f"item-{path[1]}-{path[2]}"
    if path[:1] in (["inform"], ["instrument"], ["protects"], ["compelled"]) and len(path) > 1:
        name = f"{path[0]}_{path[1]}"
    elif path[:1] == ["subject"] and len(path) > 1:
        name = f"subject_{path[1]}"
    else:
        name = path[0] if path else FORM
    return renames.get(name, name)


def input_errors(exc: pydantic.ValidationError, renames: Mapping[str, str]) -> dict[str, str]:
    """Each field the use case's input model refused, with its reason in a sentence."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = _path_field(tuple(error.get("loc", ())), renames)
        kind = error.get("type", "")
        if kind == "missing":
            message = "Answer this question"
        elif kind in ("enum", "literal_error"):
            message = "Choose one of the options"
        elif kind == "string_too_long":
            limit = error.get("ctx", {}).get("max_length", "")
            message = f"This must be {limit} characters or fewer"
        elif kind == "string_too_short":
            least = error.get("ctx", {}).get("min_length", "")
            message = f"This must be at least {least} characters"
        else:
            message = sentence(str(error.get("msg", "This answer is not valid")))
        errors.setdefault(name, message)
    return errors


ITEM_CODES = {
    "dated in the future": "item_dated_in_future",
    "flag it as historical": "historical_not_flagged",
    "only once": "duplicate_items",
    "at least one item": "no_items",
}
"""The item rules' sentences and their codes: the domain refuses a selection with its
problems joined in one :class:`ValidationFailed` at ``items``."""


def item_problems(message: str) -> tuple[Problem, ...]:
    parts = message.removeprefix("items: ").split("; ")
    return tuple(
        Problem(next((c for k, c in ITEM_CODES.items() if k in part), "items"), part)
        for part in parts
    )


def problem_errors(problems: tuple[Problem, ...], places: Mapping[str, Place]) -> dict[str, str]:
    """Each problem at its field, in the words for its code (item problems at their item)."""
    errors: dict[str, str] = {}
    for problem in problems:
        place = places.get(problem.code, Place(FORM))
        name = place.field
        item = ITEM.search(problem.message)
        if "{item}" in name and item:
            name = name.format(item=int(item.group(1)) - 1)
        elif "{item}" in name:
            name = "items"
        words = place.words or problem.message
        if item and place.words:
            words = f"Item {item.group(1)}: {place.words[:1].lower()}{place.words[1:]}"
        errors.setdefault(name, sentence(words))
    return errors


async def attempt(
    form_class: type[PageForm],
    form: FormData | Mapping[str, Any],
    run: Callable[[PageForm], Awaitable[T]],
    *,
    places: Mapping[str, Place] | None = None,
    renames: Mapping[str, str] | None = None,
    prefix: str = "",
) -> T | Refused:
    """Read the form, check it, run the use case; a :class:`Refused` when anything says no.

    ``run`` gets the form model (its ``body()`` is the use case's input). ``places`` maps the
    domain's problem codes to fields; ``renames`` maps input-model field names that differ
    from the form's; ``prefix`` names a form among several on one page (its messages are
    keyed ``<prefix>_<field>``; its inputs keep their names).
    """
    done = await _attempt(form_class, form, run, places or {}, renames or {})
    if isinstance(done, Refused) and prefix:
        errors = {f"{prefix}_{name}": message for name, message in done.errors.items()}
        return Refused(done.values, errors, done.status)
    return done


async def _attempt(
    form_class: type[PageForm],
    form: FormData | Mapping[str, Any],
    run: Callable[[PageForm], Awaitable[T]],
    places: Mapping[str, Place],
    renames: Mapping[str, str],
) -> T | Refused:
    values = form_class.raw(form)
    try:
        model = form_class.read(values)
    except pydantic.ValidationError as exc:
        return Refused(values, input_errors(exc, renames))
    errors = model.check()
    if errors:
        return Refused(values, errors)
    try:
        return await run(model)
    except FieldErrors as exc:
        return Refused(values, exc.errors)
    except pydantic.ValidationError as exc:
        return Refused(values, input_errors(exc, renames))
    except NotPermitted:
        raise
    except InconsistentDecision as exc:
        return Refused(values, problem_errors(exc.problems, places))
    except ValidationFailed as exc:
        if exc.field == "items":  # the items' problems, joined: each at its item
            return Refused(values, problem_errors(item_problems(exc.message), places))
        name = _path_field(tuple(exc.field.split(".")), renames)
        message = exc.message.removeprefix(f"{exc.field}: ")
        return Refused(values, {name: sentence(message)})
    except InvalidState as exc:
        return Refused(values, {FORM: sentence(exc.message)}, 409)
    except DomainError as exc:
        return Refused(values, {FORM: sentence(exc.message)})
    except FAILURES as exc:  # the engine did not answer: keep what was typed, say so
        log.warning("form_step_failed", form=form_class.__name__, error_type=type(exc).__name__)
        return Refused(values, {FORM: FAILED}, 503)
