"""A workflow's refusal, as the domain's own error: what the edges (API, pages, CLI)
answer with when an update or a query is refused inside a workflow."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from domain import errors

R = TypeVar("R")

_REFUSALS: dict[str, type[errors.DomainError]] = {
    "NotPermitted": errors.NotPermitted,
    "InvalidState": errors.InvalidState,
    "AlreadyAnswered": errors.AlreadyAnswered,
    "DomainError": errors.DomainError,
}


GONE = "this request or decision is no longer open (it has been completed or closed)"


async def refusals(call: Awaitable[R], gone: str = GONE) -> R:
    """Await a workflow update; a domain refusal inside comes back as the domain error, a
    workflow no longer running as ``InvalidState(gone)``."""
    try:
        return await call
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise errors.InvalidState(gone) from None
        raise
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type is not None:
            raise domain_error(cause) from None
        raise


def domain_error(cause: ApplicationError) -> errors.DomainError:
    message = cause.message
    if cause.type == "ValidationFailed":
        field = str(cause.details[0]) if cause.details else "input"
        prefix = f"{field}: "
        return errors.ValidationFailed(field, message.removeprefix(prefix))
    if cause.type == "InconsistentDecision":
        problems = [
            errors.Problem(str(detail[0]), str(detail[1]))
            for detail in cause.details
            if isinstance(detail, list | tuple) and len(detail) == 2
        ]
        if not problems:  # a refusal from a workflow that did not list its problems
            text = message.removeprefix("the decision cannot be recorded: ")
            problems = [errors.Problem("inconsistent_decision", text)]
        return errors.InconsistentDecision(problems)
    return _REFUSALS.get(cause.type or "", errors.DomainError)(message)
