"""What a decision workflow watches besides its steps: its next deadline, its search
attributes and its business metrics.

Workflow code only (deterministic; passed through the sandbox by the workflow module):

- :class:`Alarm`: one durable timer at a time, for the next escalation point. It is
  started only when that point changes, not once per wait: a step that leaves the
  next deadline where it was starts and cancels no timer.
- :func:`next_due` and :func:`overdue`: the values of ``MashflowDueAt`` and
  ``MashflowOverdue`` (``workflows.search``).
- :func:`count`: the escalations and missed deadlines a batch of events records, as
  counters on the worker's metrics (``mashflow_escalations``,
  ``mashflow_deadlines_missed``; not counted again when a history is replayed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from datetime import datetime

from temporalio import workflow

from domain.decision import AgencyDecisionState
from domain.events import Event
from domain.events.catalogue import DeadlineMissed, Escalated
from domain.request import outstanding
from domain.vocabulary import DeadlineKind

ONE_TIMER = "one-timer-per-deadline"
"""Patch: a timer is started when the next escalation point changes, not once per wait."""


class Alarm:
    """Calls ``wake`` when the instant last given to :meth:`set` passes."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._at: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    def set(self, at: datetime | None) -> None:
        """Ring at ``at`` (None: never); the running timer is kept if ``at`` is unchanged."""
        if at == self._at and self._task is not None and not self._task.done():
            return
        self.cancel()
        if at is not None:
            self._at = at
            self._task = asyncio.create_task(self._ring(at))

    def cancel(self) -> None:
        task, self._task, self._at = self._task, None, None
        if task is not None and not task.done():
            task.cancel()

    async def _ring(self, at: datetime) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(max((at - workflow.now()).total_seconds(), 0.0))
            self._wake()


def next_due(state: AgencyDecisionState) -> datetime | None:
    """The earliest deadline of a step still waiting (None: nothing is due)."""
    due = [d for kind in DeadlineKind if (d := outstanding(state, kind)) is not None]
    return min(due, default=None)


def overdue(state: AgencyDecisionState) -> bool:
    """A step still waiting has missed its deadline."""
    return any(outstanding(state, kind) is not None for kind in state.missed)


def count(events: Sequence[Event]) -> None:
    """Count escalations and missed deadlines on the worker's metrics (labels: agency
    code, deadline kind, escalation level; never an id)."""
    meter = workflow.metric_meter()
    for event in events:
        if isinstance(event, Escalated):
            meter.create_counter(
                "mashflow_escalations", "Escalations raised, by deadline kind and level."
            ).add(1, {"agency": event.agency, "kind": str(event.kind), "level": str(event.level)})
        elif isinstance(event, DeadlineMissed):
            meter.create_counter(
                "mashflow_deadlines_missed", "Deadlines missed (a step late), by kind."
            ).add(1, {"agency": event.agency, "kind": str(event.kind)})
