"""``mashflow policy``: the hub policy every process reads, as this process reads it.

The file named by ``MASHFLOW_POLICY_FILE`` (or the shipped defaults), through the
same loader as the worker and the API, with its digest: the digest each request
records on its opening, so an operator can tell which file a request ran under.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import console, settings_or_exit
from cli.directory_common import print_json
from domain.policy import RetentionPeriod, deadline_words
from domain.vocabulary import DeadlineKind, Rating
from infra.policy_file import EXAMPLE_FILE

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the whole policy as JSON.")]


def register(app: typer.Typer) -> None:
    app.command("policy")(show_policy)


def show_policy(as_json: JsonFlag = False) -> None:
    """Show the hub policy in force (deadlines, working hours, retention) and its digest."""
    settings = settings_or_exit()
    policy = settings.hub_policy()
    if as_json:
        print_json(
            {
                "file": str(settings.policy_file or EXAMPLE_FILE),
                "digest": policy.digest(),
                "policy": policy.model_dump(mode="json"),
            }
        )
        return
    words = deadline_words(policy)
    console.print(f"policy file  {settings.policy_file or EXAMPLE_FILE}", highlight=False)
    console.print(f"digest       {policy.digest()}", highlight=False)
    console.print(f"working hours: {words.working_hours}", highlight=False)
    for rating in Rating:
        steps = ", ".join(
            f"{kind} {policy.describe(kind, rating)}"
            for kind in (DeadlineKind.CONSENT, DeadlineKind.ADVICE, DeadlineKind.ACKNOWLEDGEMENT)
        )
        console.print(
            f"{rating}: decision {words.by_rating[str(rating)]}; {steps}", highlight=False
        )
    for rule in policy.retention.rules:
        review = f", reviewed every {_period(rule.review_every)}" if rule.review_every else ""
        console.print(
            f"retention {rule.record_type}: {_period(rule.period)} from {rule.anchor}{review}",
            highlight=False,
        )


def _period(period: RetentionPeriod) -> str:
    parts = [(period.years, "year"), (period.months, "month")]
    return " ".join(f"{n} {unit}{'s' * (n != 1)}" for n, unit in parts if n) or "0 years"
