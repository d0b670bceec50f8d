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
  one of its own workflows, as a child) fails at its first step, writing nothing;
- every signal: the hub's workflows sign each signal they send (to a child, or to
  any other workflow) and the application signs each one it sends, as the
  signal's last argument (see :func:`unsigned`); a receiving
  workflow drops a signal that is unsigned, signed for another workflow, signal
  or content, or whose id it has already taken, before any handler runs.

Checks are pure (a MAC over the command), so they are deterministic. Starts and
updates are not checked again while a workflow replays history it already
accepted (validators do not run then either). Signals are: a refused signal is in
the history too, and replay must drop it again. A run that took an unsigned
signal before signals were signed (``workflow.patched(SIGNED_SIGNALS)`` is false
there) replays it, and goes on taking unsigned ones until it ends; a signed one
is checked in every run.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import replace
from typing import Any, NoReturn, get_type_hints

from pydantic import TypeAdapter
from temporalio import client, workflow
from temporalio import worker as tworker
from temporalio.exceptions import ApplicationError

from infra.signing import HEADER, Command, CommandRefusedError, CommandSigner

SIGNED_SIGNALS = "signals-signed-and-checked"
"""Patch: signals received from here on are checked (earlier history replays as it ran)."""

REFUSED_TYPE = "CommandRefused"
"""The ``ApplicationError`` type of a refused command, as the caller sees it."""


def _refuse(exc: CommandRefusedError) -> NoReturn:
    raise ApplicationError(str(exc), type=REFUSED_TYPE, non_retryable=True) from None


class CommandGuard(client.Interceptor, tworker.Interceptor):
    """Signs on the client side and verifies on the worker side, with one key from the KEK."""

    def __init__(self, kek: bytes, *previous: bytes) -> None:
        self.signer = CommandSigner(kek, *previous)

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

    async def signal_workflow(self, input: client.SignalWorkflowInput) -> None:
        command = Command("signal", input.id, input.signal, str(uuid.uuid4()), input.args)
        input.args = [*input.args, {HEADER: self._signer.signature(command)}]
        await super().signal_workflow(input)

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

    def init(self, outbound: tworker.WorkflowOutboundInterceptor) -> None:
        self._taken: set[str] = set()
        """The ids of the signals this run has taken (rebuilt on replay, in order)."""
        super().init(_SigningSignals(outbound, self._signer))

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

    async def handle_signal(self, input: tworker.HandleSignalInput) -> None:
        args, signature = unsigned(input.args)
        args = _typed(input.signal, args)
        if signature is None and not workflow.patched(SIGNED_SIGNALS):
            # An unsigned signal in a run that took unsigned ones before signals were
            # signed (its history replays as it ran); any other run refuses it.
            return await super().handle_signal(replace(input, args=args))
        body = signature.get(HEADER) if signature is not None else None
        signal_id = body.get("id") if isinstance(body, dict) else None
        info = workflow.info()
        command = Command("signal", info.workflow_id, input.signal, str(signal_id), args)
        try:
            if body is None:
                raise CommandRefusedError("command refused: not signed by this hub")
            self._signer.verify_signature(body, command)
            if command.update_id in self._taken:
                raise CommandRefusedError("command refused: this signal was taken already")
        except CommandRefusedError as exc:
            # Dropped, never raised: a failing signal handler would fail the workflow.
            if not workflow.unsafe.is_replaying():
                workflow.logger.warning("signal %s refused: %s", input.signal, exc)
            return None
        self._taken.add(command.update_id)
        return await super().handle_signal(replace(input, args=args))


def unsigned(args: Sequence[Any]) -> tuple[list[Any], dict[str, Any] | None]:
    """A signal's arguments without its signature, and the signature (its last argument).

    Signals carry their signature as an argument, not a header: Temporal's
    time-skipping test server drops the headers of signals sent by a workflow.
    """
    if args and isinstance(args[-1], dict) and HEADER in args[-1]:
        return list(args[:-1]), args[-1]
    return list(args), None


def _typed(signal: str, args: list[Any]) -> list[Any]:
    """The arguments as the handler's parameters type them.

    The SDK decodes a signal's arguments by the handler's type hints only when
    their counts agree, and a handler has one parameter more (its signature)
    than an unsigned signal has arguments: those arrive as plain JSON values.
    """
    handler = workflow.get_signal_handler(signal)
    if handler is None:
        return args
    function = getattr(handler, "func", handler)  # a method comes as partial(function, self)
    hints = [h for name, h in get_type_hints(function).items() if name != "return"]
    typed = [TypeAdapter(h).validate_python(a) for h, a in zip(hints, args, strict=False)]
    return typed + args[len(typed) :]


class _SigningSignals(tworker.WorkflowOutboundInterceptor):
    """Signs every signal a hub workflow sends; ids are its run id and a count."""

    def __init__(self, next: tworker.WorkflowOutboundInterceptor, signer: CommandSigner) -> None:
        super().__init__(next)
        self._signer = signer
        self._sent = 0

    def _signed(self, workflow_id: str, signal: str, args: Sequence[Any]) -> list[Any]:
        # Deterministic: no random draw (that would move every later workflow.uuid4()).
        self._sent += 1
        signal_id = f"{workflow.info().run_id}/{self._sent}"
        command = Command("signal", workflow_id, signal, signal_id, args)
        return [*args, {HEADER: self._signer.signature(command, now=workflow.now())}]

    async def signal_child_workflow(self, input: tworker.SignalChildWorkflowInput) -> None:
        input.args = self._signed(input.child_workflow_id, input.signal, input.args)
        await super().signal_child_workflow(input)

    async def signal_external_workflow(self, input: tworker.SignalExternalWorkflowInput) -> None:
        input.args = self._signed(input.workflow_id, input.signal, input.args)
        await super().signal_external_workflow(input)
