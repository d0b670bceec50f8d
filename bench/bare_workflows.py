"""The bare Temporal design ``bench/e2e.py`` compares mashflow with: the same shape, nothing else.

A parent workflow per request records its opening (an activity), starts one child per
holding agency and records its closing; each child takes the human steps as updates,
each update running one activity, and sends a package (an activity) after the
decision. No event store, no encryption, no read models, no escalation timers: what a
first design on Temporal alone would do for the same steps.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow

STEPS = (
    "assess_purpose",
    "seek_consent",
    "record_consent",
    "determine_lawful_basis",
    "select_information",
    "record_decision",
    "open_package",
    "acknowledge_receipt",
    "record_informing",
)
"""The nine updates of a one-agency request that shares with consent."""

TIMEOUT = timedelta(seconds=30)


@dataclass
class Step:
    step: str
    actor: str
    body: dict[str, object] = field(default_factory=dict)


@dataclass
class Recorded:
    version: int


@activity.defn(name="bare_record")
async def bare_record(step: Step) -> Recorded:
    """What an append would be, without the store: an acknowledgement."""
    return Recorded(version=len(step.step))


@workflow.defn
class BareDecision:
    def __init__(self) -> None:
        self.done: list[str] = []
        self.version = 0

    @workflow.run
    async def run(self, agency: str) -> list[str]:
        await workflow.wait_condition(lambda: "record_decision" in self.done)
        await workflow.execute_activity(
            bare_record, Step("send_package", "system"), start_to_close_timeout=TIMEOUT
        )
        self.done.append("package_sent")
        await workflow.wait_condition(lambda: "record_informing" in self.done)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.done

    @workflow.update
    async def step(self, step: Step) -> int:
        if step.step in {"open_package", "acknowledge_receipt"}:
            await workflow.wait_condition(lambda: "package_sent" in self.done)
        recorded = await workflow.execute_activity(
            bare_record, step, start_to_close_timeout=TIMEOUT
        )
        self.version += 1 + recorded.version * 0
        self.done.append(step.step)
        return self.version

    @step.validator
    def _step(self, step: Step) -> None:
        if step.step not in STEPS or step.step in self.done:
            raise ValueError(f"{step.step}: not open")


@workflow.defn
class BareRequest:
    @workflow.run
    async def run(self, holders: list[str]) -> list[list[str]]:
        await workflow.execute_activity(
            bare_record, Step("open", "coordinator"), start_to_close_timeout=TIMEOUT
        )
        children = [
            await workflow.start_child_workflow(
                BareDecision.run, agency, id=f"{workflow.info().workflow_id}-{agency}"
            )
            for agency in holders
        ]
        results = await asyncio.gather(*children)
        await workflow.execute_activity(
            bare_record, Step("close", "system"), start_to_close_timeout=TIMEOUT
        )
        return list(results)
