"""``mashflow tasks list | complete``: a person's inbox and one step of a decision.

``complete`` takes the same body as ``POST /api/tasks/{task_id}`` and completes
the task through the same use case (``app.tasks.complete``: agency checked, text
sealed, command built, step run). Both act as the user whose token
the CLI holds (``MASHFLOW_TOKEN`` or ``--token-file PATH``, see
``cli.identity``): the inbox is theirs, and a step is recorded under their user
id, role and agency. Exit codes: 0 done, 2 bad input (a body the hub's rules find invalid
included) or configuration, 3
refused by the hub's rules (not a worker or advisor, another agency's task), 4
no such request or decision, 5 not signed in (no token, or one that is not
valid or has been revoked).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, get_args

import pydantic
import typer
from rich.table import Table

from app.queries import InboxTask
from app.task_bodies import TASK_ACTIONS, TaskAction
from app.tasks import StepDone, task_ref
from app.tasks import complete as complete_task
from app.timetext import local_time, time_left
from app.wording import count, role_words, with_article
from cli.common import console, fail, run, settings_or_exit
from cli.directory_common import EXIT_NOT_FOUND, EXIT_USAGE, print_json
from cli.hub_common import JsonFlag, bad_input, open_commands, open_records
from cli.identity import TokenFile, credential
from domain.errors import ValidationFailed
from domain.models import Actor
from domain.permissions import Action
from infra.directory import NotFoundError

ACTION_NAMES: tuple[str, ...] = tuple(
    get_args(body.model_fields["action"].annotation)[0]
    for body in get_args(get_args(TaskAction)[0])
)
"""Every step ``--action`` may name, as the API's task bodies spell them."""

tasks_app = typer.Typer(
    help="A person's open tasks, and completing one step.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(tasks_app, name="tasks")


@tasks_app.command("list")
def list_tasks(token_file: TokenFile = None, as_json: JsonFlag = False) -> None:
    """Your inbox: open tasks for your role and agency, most urgent first."""
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> tuple[Actor, list[InboxTask]]:
        async with open_records(settings) as hub:
            who = await hub.acting(cred, doing="the inbox")
            return who, await hub.queries.inbox(who, datetime.now(UTC))

    who, tasks = run(go())
    if as_json:
        print_json([t.model_dump(mode="json") for t in tasks])
        return
    at = f" at {who.agency}" if who.agency else ""
    title = f"{count(len(tasks), 'open task')} for {with_article(role_words(who.role))}{at}"
    table = Table(title=title)
    for column in ("task id", "kind", "rating", "time left", "due"):
        table.add_column(column, overflow="fold")
    now = datetime.now(UTC)
    zone = settings.hub_policy().calendar.timezone
    for t in tasks:
        table.add_row(
            t.task_id,
            t.kind.replace("_", " "),
            t.rating,
            time_left(t.due_at, now) if t.due_at else "-",
            local_time(t.due_at, zone) if t.due_at else "-",
        )
    console.print(table)


def _body(text: str, action: str) -> TaskAction:
    """JSON, or ``@file`` holding JSON: the same shape as ``POST /api/tasks/{task_id}``."""
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"--body: cannot read {text[1:]}: {exc.strerror}", EXIT_USAGE)
    try:
        raw: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        fail(f"--body: not JSON ({exc.msg} at line {exc.lineno})", EXIT_USAGE)
    if not isinstance(raw, dict):
        fail("--body: give a JSON object", EXIT_USAGE)
    if raw.setdefault("action", action) != action:
        fail(f"--body: its action is {raw['action']!r}, not --action {action!r}", EXIT_USAGE)
    try:
        return TASK_ACTIONS.validate_python(raw)
    except pydantic.ValidationError as exc:
        fail(bad_input(exc, "--body: "), EXIT_USAGE)


@tasks_app.command("complete")
def complete(
    task_id: Annotated[
        str, typer.Argument(metavar="TASK_ID", help="As 'mashflow tasks list' shows it.")
    ],
    action: Annotated[
        str, typer.Option("--action", help=f"The step: one of {', '.join(ACTION_NAMES)}.")
    ],
    body: Annotated[
        str, typer.Option("--body", help="JSON, or @FILE: the body of POST /api/tasks/{id}.")
    ],
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Complete one step of a decision, as a worker or advisor of the holding agency."""
    if action not in ACTION_NAMES:
        fail(f"--action: must be one of {', '.join(ACTION_NAMES)}", EXIT_USAGE)
    try:
        task_ref(task_id)
    except ValidationFailed:
        fail("TASK_ID: not a task id from the inbox (as 'mashflow tasks list' shows)", EXIT_USAGE)
    parsed = _body(body, action)
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> StepDone:
        async with open_commands(settings) as hub:
            who = await hub.acting(cred, Action.WORK_TASKS, doing="completing a task")
            try:
                return await complete_task(hub.requests, who, task_id, parsed)
            except ValidationFailed as exc:  # the body made a command the domain refuses
                fail(f"--body: {exc}", EXIT_USAGE)
            except NotFoundError as exc:
                fail(str(exc), EXIT_NOT_FOUND)

    done = run(go())
    if as_json:
        print_json(done.model_dump(mode="json"))
        return
    console.print(f"done: {done.action} (decision version {done.version})", highlight=False)
    for t in done.open_tasks:
        console.print(f"  open: {t.kind} for {t.role} at {t.agency}: {t.task_id}", highlight=False)
