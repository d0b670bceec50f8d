"""Which task steps a decision has answered, so a task id never silently drops an answer.

The update id of a person's step is ``{task_id}:{action}:{digest}``, the digest being
that of the body as sent (``app.tasks.body_digest``). The same body again has the same
update id, and the server hands back the first result. A *different* body under the
same task id and action has another update id and reaches the workflow: its validator
refuses it (``AlreadyAnswered``, a 409) with a summary of the answer recorded, instead
of running a second, unasked-for step.

Workflow code only: kept in memory, rebuilt by replaying the handlers (validators do
not run on replay), so it adds nothing to the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.errors import AlreadyAnswered
    from domain.events import Event
    from domain.models import Actor

DIGEST_PARTS = 6
"""``request_id:agency:kind:version:action:digest``."""


@dataclass(frozen=True, slots=True)
class Answer:
    digest: str
    summary: str


def _key_and_digest() -> tuple[str, str] | None:
    info = workflow.current_update_info()
    if info is None or not info.id:
        return None
    parts = info.id.split(":")
    if len(parts) != DIGEST_PARTS:
        return None
    return ":".join(parts[:-1]), parts[-1]


class AnsweredSteps:
    def __init__(self) -> None:
        self._answers: dict[str, Answer] = {}

    def check(self) -> None:
        """In a validator: refuse a different body under a task id and action answered."""
        found = _key_and_digest()
        if found is None:
            return
        key, digest = found
        answer = self._answers.get(key)
        if answer is not None and answer.digest != digest:
            raise AlreadyAnswered(answer.summary)

    def record(self, actor: Actor, events: Sequence[Event], version: int) -> None:
        """In a handler, once its events are appended: what this task id and action answered."""
        found = _key_and_digest()
        if found is None:
            return
        key, digest = found
        action = key.rsplit(":", 1)[1]
        recorded = ", ".join(type(e).event_type for e in events) or "nothing new"
        when = workflow.now().strftime("%Y-%m-%d %H:%M:%S")
        self._answers[key] = Answer(
            digest,
            f"this task's {action} step was already answered with a different body, "
            f"at {when} UTC by user {actor.user_id} ({recorded}; decision version {version}); "
            "open the task again to see what is asked now",
        )
