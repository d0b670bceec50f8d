"""What every page form shares: reading fields, turning refusals into messages in place.

The pages call the same commands as the API; what differs is the answer. A
refused form is shown again with each message beside its field (422 for bad
input, 409 for a state that no longer allows the change), so these helpers map
pydantic's errors and the domain's refusals to form field names. A refusal of
who is acting (:class:`~domain.errors.NotPermitted`) is never shown in a form:
it goes to the error handlers, which answer 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pydantic
from starlette.datastructures import FormData

from domain.errors import DomainError, InvalidState, NotPermitted


def form_text(form: FormData, name: str) -> str:
    """A text field's value, or "" when it is missing or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_errors(exc: pydantic.ValidationError, tag: str | None = None) -> dict[str, str]:
    """Each invalid field, keyed by its form field's name, with a plain message.

    ``tag``: the union member's tag, which pydantic puts first in the path.
    """
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        if tag is not None and loc[:1] == [tag]:
            loc = loc[1:]
        if loc[:1] == ["subject"] and len(loc) > 1:
            name = f"subject_{'dob' if loc[1] == 'date_of_birth' else loc[1]}"
        elif loc and loc[0] == "items" and len(loc) > 2:
            name = f"item-{loc[1]}-{loc[2]}"
        elif loc and loc[0] in ("inform", "instrument") and len(loc) > 1:
            name = f"{loc[0]}_{loc[1]}"
        else:
            name = loc[0] if loc else "form"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        errors.setdefault(name, message)
    return errors


def refusal(exc: DomainError, prefix: str | None = None) -> dict[str, str]:
    """A domain refusal as a form message: at its field when it names one, else the form's."""
    field = getattr(exc, "field", None)
    name = str(field).split(".")[0] if isinstance(field, str) else "form"
    return {f"{prefix}_{name}" if prefix else name: exc.message}


async def attempt(
    command: Callable[[], Awaitable[object]], prefix: str | None = None
) -> tuple[dict[str, str], int] | None:
    """Run a form's command: None when it went through, else the messages and the status.

    ``prefix`` names a form among several on one page (its fields are ``prefix_name``).
    """
    try:
        await command()
    except pydantic.ValidationError as exc:
        errors = form_errors(exc)
        return ({f"{prefix}_{k}": v for k, v in errors.items()} if prefix else errors), 422
    except NotPermitted:
        raise
    except DomainError as exc:  # refused by the rules: say so where it belongs
        return refusal(exc, prefix), 409 if isinstance(exc, InvalidState) else 422
    return None
