"""The command guard: the client signs what the application sends, the worker checks it.

One object, given to the Temporal client (``infra.temporal``): as a client
interceptor it signs every workflow start, update and schedule action the
application sends (``infra.signing``); as a worker interceptor (a worker built
on that client uses it too) it checks, inside the workflow and before any
workflow code runs:

- every update, in its validator and again before its handler: an update that
  this hub did not sign for this workflow, this update name, this update id and
  these arguments is refused, so nothing is written;
- every workflow start: a workflow started by anyone but the application (or by
  one of its own workflows, as a child) fails at its first step, writing nothing.

Checks are pure (a MAC over the command), so they are deterministic; they are
skipped while a workflow replays history it already accepted (validators do not
run then either), so recorded histories and a rotated key replay unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from dataclasses import replace
from typing import Any, NoReturn

from temporalio import client, workflow
from temporalio import worker as tworker
from temporalio.exceptions import ApplicationError

from infra.signing import Command, CommandRefusedError, CommandSigner

REFUSED_TYPE = "CommandRefused"
"""The ``ApplicationError`` type of a refused command, as the caller sees it."""


def _refuse(exc: CommandRefusedError) -> NoReturn:
    raise ApplicationError(str(exc), type=REFUSED_TYPE, non_retryable=True) from None


class CommandGuard(client.Interceptor, tworker.Interceptor):
    """Signs on the client side and verifies on the worker side, with one key from the KEK."""

    def __init__(self, kek: bytes) -> None:
        self.signer = CommandSigner(kek)

    def intercept_client(self, next: client.OutboundInterceptor) -> client.OutboundInterceptor:
        return _Signing(next, self.signer)

    def workflow_interceptor_class(
        self, input: tworker.WorkflowInterceptorClassInput
    ) -> type[tworker.WorkflowInboundInterceptor]:
        signer = self.signer

        class Verifying(_Verifying):
            """Bound to this guard's key (the SDK makes one per workflow run)."""

            _signer = signer

        return Verifying


# -- the application's side --------------------------------------------------------------


class _Signing(client.OutboundInterceptor):
    def __init__(self, next: client.OutboundInterceptor, signer: CommandSigner) -> None:
        super().__init__(next)
        self._signer = signer

    async def start_workflow(
        self, input: client.StartWorkflowInput
    ) -> client.WorkflowHandle[Any, Any]:
        command = Command("start", input.id, input.workflow, "", input.args)
        input.headers = self._signer.headers(input.headers, command)
        return await super().start_workflow(input)

    async def start_workflow_update(
        self, input: client.StartWorkflowUpdateInput
    ) -> client.WorkflowUpdateHandle[Any]:
        input.update_id = input.update_id or str(uuid.uuid4())
        command = Command("update", input.id, input.update, input.update_id, input.args)
        input.headers = self._signer.headers(input.headers, command)
        return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: client.StartWorkflowUpdateWithStartInput
    ) -> client.WorkflowUpdateHandle[Any]:
        start, update = input.start_workflow_input, input.update_workflow_input
        start.headers = self._signer.headers(
            start.headers, Command("start", start.id, start.workflow, "", start.args)
        )
        update.update_id = update.update_id or str(uuid.uuid4())
        update.headers = self._signer.headers(
            update.headers,
            Command("update", start.id, update.update, update.update_id, update.args),
        )
        return await super().start_update_with_start_workflow(input)

    async def create_schedule(self, input: client.CreateScheduleInput) -> client.ScheduleHandle:
        input.schedule = self._signed_schedule(input.schedule)
        return await super().create_schedule(input)

    async def update_schedule(self, input: client.UpdateScheduleInput) -> None:
        updater = input.updater

        async def signed(update_input: client.ScheduleUpdateInput) -> client.ScheduleUpdate | None:
            result = updater(update_input)
            update = await result if isinstance(result, Awaitable) else result
            if update is None:
                return None
            return replace(update, schedule=self._signed_schedule(update.schedule))

        input.updater = signed
        await super().update_schedule(input)

    def _signed_schedule(self, schedule: client.Schedule) -> client.Schedule:
        action = schedule.action
        if not isinstance(action, client.ScheduleActionStartWorkflow):
            return schedule
        command = Command("start", action.id, action.workflow, "", action.args)
        action.headers = self._signer.headers(action.headers or {}, command)
        return schedule


# -- the worker's side (runs inside the workflow sandbox) --------------------------------


class _Verifying(tworker.WorkflowInboundInterceptor):
    _signer: CommandSigner

    def _check(self, command: Command, headers: Any) -> None:
        try:
            self._signer.verify(headers, command)
        except CommandRefusedError as exc:
            _refuse(exc)

    async def execute_workflow(self, input: tworker.ExecuteWorkflowInput) -> Any:
        info = workflow.info()
        # A child is started by one of this hub's own workflows (the server says so);
        # anything else must carry the application's signature.
        if info.parent is None and not workflow.unsafe.is_replaying():
            command = Command("start", info.workflow_id, info.workflow_type, "", input.args)
            self._check(command, input.headers)
        return await super().execute_workflow(input)

    def _update(self, input: tworker.HandleUpdateInput) -> Command:
        return Command("update", workflow.info().workflow_id, input.update, input.id, input.args)

    def handle_update_validator(self, input: tworker.HandleUpdateInput) -> None:
        self._check(self._update(input), input.headers)
        super().handle_update_validator(input)

    async def handle_update_handler(self, input: tworker.HandleUpdateInput) -> Any:
        # Validators do not run on replay, nor for an update that has none: check here too.
        if not workflow.unsafe.is_replaying():
            self._check(self._update(input), input.headers)
        return await super().handle_update_handler(input)
