"""``mashflow retention run | list | show | retain | dispose``: the retention reviews.

A compliance officer's queue and decisions, through ``app.retention`` (the same
service the web page uses; the rules are ``domain.retention``'s). Like
``mashflow tasks`` these commands act as the user whose token the CLI holds
(``MASHFLOW_TOKEN`` or ``--token-file PATH``, see ``cli.identity``), who must be
a compliance officer; decisions are recorded under their user id. They work on
the configured services: the reviews live in a long-running worker's
workflows. ``list`` and ``show`` read the event store only; ``run``, ``retain``
and ``dispose`` need Temporal too.

Exit codes: 0 done, 2 bad input or configuration, 3 refused (a role other than
compliance officer, a review already decided, a next review date the policy
does not allow), 4 no such review, 5 not signed in (no token, or one that is
not valid or has been revoked).
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID

import typer
from rich.table import Table

from app.container import Infrastructure, open_container, open_infrastructure
from app.history import TimelineEntry
from app.retention import RetentionReview, RetentionService, ReviewNotFoundError
from app.wording import count
from cli.common import console, fail, run, settings_or_exit
from cli.directory_common import EXIT_NOT_FOUND, EXIT_USAGE, print_json
from cli.hub_common import JsonFlag, require_configured
from cli.identity import Credential, TokenFile, acting_user, credential
from domain.errors import ValidationFailed
from domain.models import Actor
from domain.permissions import Action
from domain.vocabulary import DisposalReason
from infra.settings import Settings
from infra.stack import running_stack
from workflows.retention import RetentionRunResult, ReviewView

retention_app = typer.Typer(
    help="Retention reviews: run a pass, the queue, and retain or dispose decisions.",
    no_args_is_help=True,
)

ReviewArg = Annotated[
    str, typer.Argument(metavar="REVIEW", help="A review id, as 'mashflow retention list' shows.")
]

OPTION_OF = {"next_review_on": "--next-review", "reason": "--reason"}
"""The command's option for each field the domain may refuse."""


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")


def review_id_of(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        fail("REVIEW: not a review id (as 'mashflow retention list' shows)", EXIT_USAGE)


def day_of(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option}: not a date; give it as YYYY-MM-DD", EXIT_USAGE)


@contextlib.asynccontextmanager
async def open_retention(
    settings: Settings, cred: Credential, *, temporal: bool
) -> AsyncIterator[tuple[RetentionService, Actor]]:
    """The configured database (and Temporal, for decisions), checked reachable first, and
    the compliance officer signed in. The queue is theirs alone: the decisions are refused by
    the domain itself for anyone else, and everything is checked here, the reads too."""
    require_configured(settings, temporal=temporal)
    async with running_stack(settings, ui=False, temporal=temporal) as stack:
        try:
            async with _service(stack.settings, temporal=temporal) as (infra, service):
                who = await acting_user(
                    infra, cred, Action.REVIEW_RETENTION, doing="working retention reviews"
                )
                try:
                    yield service, who
                except ReviewNotFoundError as exc:
                    fail(str(exc), EXIT_NOT_FOUND)
                except ValidationFailed as exc:
                    fail(
                        f"{OPTION_OF.get(exc.field, exc.field)}: {exc.message.split(': ', 1)[-1]}",
                        EXIT_USAGE,
                    )
        finally:
            # The SDK's client holds a handle on its Rust runtime; let it go inside the loop.
            gc.collect()


@contextlib.asynccontextmanager
async def _service(
    settings: Settings, *, temporal: bool
) -> AsyncIterator[tuple[Infrastructure, RetentionService]]:
    if temporal:
        async with open_container(settings) as container:
            yield container.infra, container.retention
        return
    async with open_infrastructure(settings) as infra:
        # Reads need no Temporal: a service without a client reads the review queue only.
        queue = settings.temporal_task_queue
        yield (
            infra,
            RetentionService(None, infra.store, infra.keyring, queue, settings.hub_policy()),
        )


def _state(review: RetentionReview) -> str:
    if review.status.value != "open":
        return review.status.value
    if review.escalated_at is not None:
        return "OVERDUE (escalated)"
    return "OVERDUE" if review.overdue else "open"


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else "-"


@retention_app.command("run")
def run_pass(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="Review as of this day (YYYY-MM-DD), e.g. to catch up; default today.",
        ),
    ] = None,
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Run a review pass now, as the schedule would: open a review per record now due."""
    today = day_of(as_of, "--as-of") if as_of is not None else None
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> RetentionRunResult:
        async with open_retention(settings, cred, temporal=True) as (service, _):
            return await service.run_now(today=today)

    result = run(go())
    if as_json:
        print_json(result.model_dump(mode="json"))
        return
    console.print(
        f"opened {count(len(result.opened), 'review')} ({result.already_open} already open) "
        f"after looking at {result.requests_scanned} requests",
        highlight=False,
    )


@retention_app.command("list")
def list_reviews(token_file: TokenFile = None, as_json: JsonFlag = False) -> None:
    """The open reviews, oldest due first, with their decision due dates; overdue flagged."""
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> list[RetentionReview]:
        async with open_retention(settings, cred, temporal=False) as (service, _):
            return await service.open_reviews(datetime.now(UTC))

    reviews = run(go())
    if as_json:
        print_json([r.model_dump(mode="json") for r in reviews])
        return
    overdue = sum(r.overdue for r in reviews)
    table = Table(title=f"{count(len(reviews), 'open retention review')}, {overdue} overdue")
    for column in ("review", "request", "record", "review date", "decision due", "state"):
        table.add_column(column, overflow="fold")
    for r in reviews:
        style = "bold red" if r.overdue else None
        table.add_row(
            str(r.review_id),
            str(r.request_id),
            r.record_type.value.replace("_", " "),
            r.due_on.isoformat(),
            _when(r.decision_due_at),
            _state(r),
            style=style,
        )
    console.print(table)


@retention_app.command("show")
def show(review: ReviewArg, token_file: TokenFile = None, as_json: JsonFlag = False) -> None:
    """One review and its record's decision trail (personal data withheld)."""
    review_id = review_id_of(review)
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> tuple[RetentionReview, list[TimelineEntry]]:
        async with open_retention(settings, cred, temporal=False) as (service, _):
            found = await service.find(review_id)
            return found, await service.trail(found)

    found, trail = run(go())
    if as_json:
        print_json(
            {
                "review": found.model_dump(mode="json"),
                "trail": [e.model_dump(mode="json") for e in trail],
            }
        )
        return
    lines = [
        f"review {found.review_id}: {_state(found)}",
        f"  request {found.request_id}, {found.record_type.value.replace('_', ' ')} record",
        f"  review date {found.due_on.isoformat()}, opened {_when(found.opened_at)}, "
        f"decision due {_when(found.decision_due_at)}",
    ]
    if found.escalated_at is not None:
        lines.append(f"  escalated {_when(found.escalated_at)}")
    if found.decided_by is not None:
        after = f", next review {found.next_review_on}" if found.next_review_on else ""
        lines.append(
            f"  {found.status.value} by {found.decided_by} {_when(found.decided_at)}{after}"
        )
    for line in lines:
        console.print(line, highlight=False)
    table = Table(title="Decision trail")
    for column in ("when", "what happened", "who"):
        table.add_column(column, overflow="fold")
    for e in trail:
        who = e.actor_id or "system"
        if e.actor_role:
            who += f" ({e.actor_role.replace('_', ' ')})"
        table.add_row(_when(e.recorded_at), e.summary, who)
    console.print(table)


def _decided(view: ReviewView, as_json: bool) -> None:
    if as_json:
        print_json(view.model_dump(mode="json"))
        return
    assert view.state is not None
    after = f"; next review on {view.state.next_review_on}" if view.state.next_review_on else ""
    console.print(
        f"{view.state.status.value}: review {view.state.review_id}{after}", highlight=False
    )


@retention_app.command("retain")
def retain(
    review: ReviewArg,
    reason: Annotated[
        str, typer.Option("--reason", help="Why the record is kept (sealed; never logged).")
    ],
    next_review: Annotated[
        str,
        typer.Option(
            "--next-review",
            metavar="DATE",
            help="When to review it again (YYYY-MM-DD), within the policy's review interval.",
        ),
    ],
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Keep the record, with a reason, until its next review."""
    review_id = review_id_of(review)
    next_review_on = day_of(next_review, "--next-review")
    cred = credential(token_file)
    settings = settings_or_exit()

    async def go() -> ReviewView:
        async with open_retention(settings, cred, temporal=True) as (service, who):
            return await service.retain(who, review_id, reason, next_review_on)

    _decided(run(go()), as_json)


def _disposal_reason(text: str) -> DisposalReason:
    try:
        return DisposalReason(text)
    except ValueError:
        names = ", ".join(r.value for r in DisposalReason)
        fail(f"--reason: must be one of {names}", EXIT_USAGE)


@retention_app.command("dispose")
def dispose(
    review: ReviewArg,
    reason: Annotated[
        str,
        typer.Option(
            "--reason",
            help="retention_period_ended, no_longer_necessary or erasure_request_upheld.",
        ),
    ],
    yes: Annotated[
        bool,
        typer.Option("--yes", help="Confirm without asking: the personal data cannot come back."),
    ] = False,
    token_file: TokenFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Dispose of the record: the subject's personal data is destroyed; the trail stays."""
    review_id = review_id_of(review)
    why = _disposal_reason(reason)
    cred = credential(token_file)
    if not yes:
        if not sys.stdin.isatty():
            fail("dispose cannot be undone: confirm with --yes", EXIT_USAGE)
        if not typer.confirm(
            "Disposal destroys the subject's personal data for good. Dispose?", default=False
        ):
            fail("not disposed", EXIT_USAGE)
    settings = settings_or_exit()

    async def go() -> ReviewView:
        async with open_retention(settings, cred, temporal=True) as (service, who):
            return await service.dispose(who, review_id, why)

    _decided(run(go()), as_json)
