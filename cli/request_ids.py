"""A request id as people give it: the whole id, or its first characters as the pages and
lists show them (at least eight), resolved against the request list."""

from __future__ import annotations

import re
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from app.queries import Queries
from cli.common import fail
from cli.directory_common import EXIT_NOT_FOUND, EXIT_USAGE

MIN_PREFIX = 8
_PREFIX = re.compile(r"^[0-9a-f][0-9a-f-]{7,35}$")


def id_or_prefix(value: str, name: str) -> uuid.UUID | str:
    """A whole id, or a prefix to resolve (refused at once if it is neither)."""
    text = value.strip().lower()
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    if not _PREFIX.fullmatch(text) or len(text.replace("-", "")) < MIN_PREFIX:
        fail(
            f"{name}: give a request id, or at least its first {MIN_PREFIX} characters "
            "as the pages and 'mashflow requests list' show them",
            EXIT_USAGE,
        )
    return text


async def resolve(engine: AsyncEngine, value: uuid.UUID | str, name: str) -> uuid.UUID:
    """The one request ``value`` names (a prefix must name exactly one)."""
    if isinstance(value, uuid.UUID):
        return value
    found = await Queries(engine).request_ids_starting(value)
    if not found:
        fail(f"{name}: no request id starts with {value}", EXIT_NOT_FOUND)
    if len(found) > 1:
        fail(f"{name}: more than one request id starts with {value}; give more of it", EXIT_USAGE)
    return found[0]
