"""The decision workflow's steps once a package has gone: the recipient opens it and
acknowledges it, the sending agency revokes it.

A base class of :class:`workflows.agency_decision.AgencyDecisionWorkflow` (its updates are
found there by name), kept apart so the workflow's own module stays under the house's
size limit; the workflow's ``_step``, ``_check`` and ``_apply`` do the work, the rules are
``domain.handlers``'.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import commands as c
    from domain import handlers as h
    from domain.decision import AgencyDecisionState, open_tasks
    from domain.models import Actor
    from workflows.agency_messages import StepResult
    from workflows.common import StreamWriter, decided
    from workflows.package_steps import delete_package

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from datetime import datetime

    from domain.events import Event

    Decide = Callable[[datetime], list[Event]]


class PackageReceiptSteps:
    state: AgencyDecisionState
    lock: asyncio.Lock
    writer: StreamWriter
    _sending: bool
    """The package is being sent: the log may record it before the workflow has taken in
    the answer."""

    _apply: Callable[[list[Event], Actor | None], Awaitable[None]]
    _step: Callable[[Actor, Decide], Awaitable[StepResult]]
    _check: Callable[[Decide], None]
    """The workflow's own: append and fold; a step under the lock; a validator's check."""

    @workflow.update
    async def open_package(self, actor: Actor, command: c.OpenPackage) -> StepResult:
        return await self._step(
            actor, lambda now: h.decide_open_package(self.state, command, actor, now)
        )

    @open_package.validator
    def _open_package(self, actor: Actor, command: c.OpenPackage) -> None:
        if self._sending:
            # The log records the package sent before this workflow has taken in the
            # answer: the handler, holding the lock, decides once it has.
            return
        self._check(lambda now: h.decide_open_package(self.state, command, actor, now))

    @workflow.update
    async def acknowledge_receipt(self, actor: Actor, command: c.AcknowledgeReceipt) -> StepResult:
        return await self._step(
            actor, lambda now: h.decide_acknowledge(self.state, command, actor, now)
        )

    @acknowledge_receipt.validator
    def _acknowledge_receipt(self, actor: Actor, command: c.AcknowledgeReceipt) -> None:
        if self._sending:
            return  # as for opening: the handler decides once the sending is taken in
        self._check(lambda now: h.decide_acknowledge(self.state, command, actor, now))

    @workflow.update
    async def revoke_package(self, actor: Actor, command: c.RevokePackage) -> StepResult:
        async with self.lock:
            events = decided(lambda: h.decide_revoke(self.state, command, actor, workflow.now()))
            # Delete the sealed copy first: the event then records a recall that has happened.
            await delete_package(command.package_id)
            await self._apply(events, actor)
            return StepResult(
                version=self.writer.version,
                position=self.writer.position,
                tasks=open_tasks(self.state),
            )

    @revoke_package.validator
    def _revoke_package(self, actor: Actor, command: c.RevokePackage) -> None:
        self._check(lambda now: h.decide_revoke(self.state, command, actor, now))
