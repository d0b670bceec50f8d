"""The domain's errors: a small hierarchy, translated only at the edges.

``api/`` maps them to HTTP statuses and ``workflows/`` to ``ApplicationError``
types (the class name is the type). Messages are read by coordinators,
workers and advisors, so they say plainly what is wrong and what to do.
They are built only from field names, enum values, agency codes and ids:
never from personal or safeguarding detail, which the domain only ever holds
as ciphertext anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pydantic


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a decision is inconsistent: a stable code for machines, a sentence for people."""

    code: str
    message: str


class DomainError(Exception):
    """Base of every rule the domain refuses to break."""

    code: str = "domain_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):  # noqa: N818 - names from the brief read as domain verdicts
    """A command or model field holds a value the rules do not accept."""

    code = "validation_failed"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def validation_failed(exc: pydantic.ValidationError) -> ValidationFailed:
    """A model refused a value: the first field and its reason, never the value itself."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first.get("loc", ())) or "body"
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return ValidationFailed(field, message.removeprefix(f"{field}: "))


class NotPermitted(DomainError):  # noqa: N818 - names from the brief read as domain verdicts
    """The actor's role or agency may not do this."""

    code = "not_permitted"


class InvalidState(DomainError):  # noqa: N818 - names from the brief read as domain verdicts
    """The step is not open at this point of the decision (too early, too late, done)."""

    code = "invalid_state"


class AlreadyAnswered(InvalidState):
    """The task's step was answered already, with a different body: the answer stands."""

    code = "already_answered"


class InconsistentDecision(DomainError):  # noqa: N818 - names from the brief read as domain verdicts
    """A decision that contradicts what has been recorded; lists every problem at once."""

    code = "inconsistent_decision"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        listed = "; ".join(p.message for p in self.problems)
        super().__init__(f"the decision cannot be recorded: {listed}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(p.code for p in self.problems)
