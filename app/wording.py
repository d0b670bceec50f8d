"""Plain-English bits every page and command shares: counts with the right plural and
roles with the right article ("1 open task", "an agency worker")."""

from __future__ import annotations

from domain.permissions import ROLE_NAMES
from domain.vocabulary import Role


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``count(1, "open task")`` -> "1 open task"; ``count(2, "open task")`` -> "2 open tasks"."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def with_article(noun: str) -> str:
    """ "an agency worker", "a hub coordinator": by the first letter's sound (vowels)."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def role_words(role: Role | str) -> str:
    """A role as people say it ("agency worker")."""
    return ROLE_NAMES.get(Role(role), str(role).replace("_", " "))
