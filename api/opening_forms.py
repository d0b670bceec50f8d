"""The one-time key of the new-request and share forms: a double submission opens once.

The form is shown with a fresh random key in a hidden field (kept with the form's draft, and
coming back with the form when it is refused); the submission passes it on as the
``Idempotency-Key`` (``app.idempotency``), so the same form sent twice (a double click, a
resubmission after a slow answer) opens one request and both land on it.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

from api.forms import FORM, FieldErrors
from app import idempotency
from domain.errors import ValidationFailed

T = TypeVar("T")

FIELD = "opening_key"

SENT_WITH_OTHER_DETAILS = (
    "This form has already been sent, with other details, and opened a request. "
    "To open another, start again from a new form"
)
NOT_THIS_FORM = "This form cannot be sent as it is: start again from a new form"


def with_key(values: dict[str, Any]) -> dict[str, Any]:
    """A form's values to show, with its one-time key (a fresh one if it has none)."""
    if not values.get(FIELD):
        values = values | {FIELD: secrets.token_urlsafe(24)}
    return values


def key_of(form: Any) -> str | None:
    """The submitted form's key, or None (a form sent without one opens as the API without
    the header does)."""
    key = getattr(form, FIELD, "")
    return key if isinstance(key, str) and key else None


async def opening(call: Callable[[str | None], Awaitable[UUID]], form: Any) -> UUID:
    """Open with the form's key; the key's refusal said in the page's words."""
    try:
        return await call(key_of(form))
    except ValidationFailed as exc:
        if exc.field != idempotency.HEADER:
            raise
        already = "already used" in exc.message
        raise FieldErrors({FORM: SENT_WITH_OTHER_DETAILS if already else NOT_THIS_FORM}) from None
