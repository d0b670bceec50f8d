"""The decision workflow's step for consent withdrawn after it was given.

A base class of :class:`workflows.agency_decision.AgencyDecisionWorkflow` (its update is
found there by name, ``record_consent_withdrawn``): kept apart so the workflow's own
module stays under the house's size limit. What follows a withdrawal is the domain's
(``domain.withdrawal``); here: record it and, where the package had already gone, tell
the recipient agency at once (a ``consent_withdrawn`` notification). A new update of
its own, so no existing history's commands change.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import commands as c
    from domain.decision import AgencyDecisionState, open_tasks
    from domain.models import Actor
    from domain.vocabulary import Role
    from domain.withdrawal import decide_consent_withdrawn
    from workflows.agency_messages import StepResult
    from workflows.common import StreamWriter, decided, notify

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from domain.events import Event

CONSENT_WITHDRAWN = "consent_withdrawn"
"""The notification the recipient agency gets when consent behind a sent package ends."""


class ConsentWithdrawalSteps:
    state: AgencyDecisionState
    lock: asyncio.Lock
    writer: StreamWriter

    _apply: Callable[[list[Event], Actor | None], Awaitable[None]]
    """The workflow's own: append the events and fold them into the state."""

    @workflow.update
    async def record_consent_withdrawn(
        self, actor: Actor, command: c.WithdrawConsent
    ) -> StepResult:
        async with self.lock:
            events = decided(
                lambda: decide_consent_withdrawn(self.state, command, actor, workflow.now())
            )
            await self._apply(events, actor)
            result = StepResult(
                version=self.writer.version,
                position=self.writer.position,
                tasks=open_tasks(self.state),
            )
        package = self.state.package
        if package is not None:
            await notify(
                self.state.request_id,
                package.recipient_agency,
                [Role.RECIPIENT, Role.AGENCY_WORKER],
                CONSENT_WITHDRAWN,
            )
        return result

    @record_consent_withdrawn.validator
    def _record_consent_withdrawn(self, actor: Actor, command: c.WithdrawConsent) -> None:
        decided(lambda: decide_consent_withdrawn(self.state, command, actor, workflow.now()))
