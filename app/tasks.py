"""Completing a task: one body per action, told apart by ``action``.

Free text is plain here and sealed (under the subject's key) as it is turned
into the domain command; enums, booleans and dates pass through as they are.
Each body names its workflow update (``action``). The API
(``POST /api/tasks/{task_id}``), the pages and the CLI (``mashflow tasks
complete``) all complete tasks through here, so one body means one command.
"""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

import pydantic
from pydantic import BaseModel, Field

from app.requests import RequestService, view_of
from app.task_bodies import Action, TaskAction
from domain import permissions
from domain.commands import Command
from domain.decision import Task, TaskKind
from domain.errors import InvalidState, NotPermitted, ValidationFailed, validation_failed
from domain.events import Sealed
from domain.guards import ensure_open
from domain.models import Actor
from domain.tasks import TaskId
from infra.directory import NotFoundError


class OpenTask(BaseModel):
    task_id: str
    """The id to complete this task with (as the inbox lists it)."""
    kind: str
    role: str
    agency: str
    due_at: str | None

    @classmethod
    def of(cls, task: Task, ref: TaskId, version: int) -> OpenTask:
        return cls(
            task_id=str(TaskId(ref.request_id, ref.agency, str(task.kind), version)),
            kind=str(task.kind),
            role=str(task.role),
            agency=task.agency,
            due_at=task.due_at.isoformat() if task.due_at else None,
        )


class StepDone(BaseModel):
    """The decision's stream version after the step, and what is open now."""

    task_id: str
    action: str
    version: int
    open_tasks: list[OpenTask]
    next_task_id: str | None = Field(
        description="The first task now open on this decision for your own role (a worker's "
        "next step, not an advisor's or the system's), if any: complete it next, without "
        "polling the inbox."
    )


async def build_command(requests: RequestService, subject_id: UUID, action: TaskAction) -> Command:
    """Seal the action's free text under the subject's key and build its domain command.

    A body that passes validation but makes a command the domain model refuses
    raises ``pydantic.ValidationError``; callers turn that into their own refusal.
    One key session for the command: the subject's key is read once, however many
    values the action seals.
    """
    keys = requests.keyring.session()

    async def seal(text: str) -> Sealed:
        return await keys.seal(subject_id, text)

    return await action.command(seal)


async def run_step(
    requests: RequestService, actor: Actor, task_id: str, action: TaskAction, command: Command
) -> StepDone:
    """Run the step. The update id is ``{task_id}:{action}:{digest of the body}``: the same
    body again runs the step once and answers as the first time; another body under the
    same task id and action is refused (:class:`~domain.errors.AlreadyAnswered`)."""
    ref = TaskId.parse(task_id)
    update_id = f"{task_id}:{action.action}:{body_digest(action)}"
    try:
        result = await requests.step(
            actor, ref.request_id, ref.agency, action.action, command, task_id=update_id
        )
    except InvalidState:
        await _ended_decision_says_why(requests, ref)
        raise
    open_now = [OpenTask.of(t, ref, result.version) for t in result.tasks]
    yours = [t for t in open_now if t.role == str(actor.role)]
    return StepDone(
        task_id=task_id,
        action=action.action,
        version=result.version,
        open_tasks=open_now,
        next_task_id=yours[0].task_id if yours else None,
    )


async def _ended_decision_says_why(requests: RequestService, ref: TaskId) -> None:
    """A step refused because the decision has ended (completed, or its request withdrawn)
    is refused in the decision's own words (:func:`domain.guards.ensure_open`): its workflow
    is gone and the refusal read only 'this request or decision is no longer open'. A
    decision still open leaves the refusal as it was."""
    try:
        state = await requests.decision(ref.request_id, ref.agency)
    except NotFoundError:
        return
    ensure_open(state)


def body_digest(action: Action) -> str:
    """A short digest of the body as sent (its JSON, keys sorted): a task step's identity."""
    canonical = json.dumps(action.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


_KINDS = frozenset(kind.value for kind in TaskKind)


def task_ref(task_id: str) -> TaskId:
    """A task id as the inbox lists it, its kind one the decision has; anything else is
    :class:`ValidationFailed` (an id made up with another kind read the request as if it
    were a task, and recorded the reading)."""
    ref = TaskId.parse(task_id)
    if ref.kind not in _KINDS:
        raise ValidationFailed("task_id", "not a task id from the inbox")
    return ref


async def complete(
    requests: RequestService, actor: Actor, task_id: str, action: TaskAction
) -> StepDone:
    """Complete a task: its agency checked, the action's text sealed, its command built and
    the step run. The API, the pages and the CLI all complete tasks through here."""
    ref = task_ref(task_id)
    if not permissions.allows(actor, permissions.Action.WORK_TASKS, ref.agency):
        raise NotPermitted("this task belongs to another agency")
    view = await view_of(requests, ref.request_id)
    try:
        command = await build_command(requests, view.state.subject_id, action)
    except pydantic.ValidationError as exc:
        raise validation_failed(exc) from None
    return await run_step(requests, actor, task_id, action, command)
