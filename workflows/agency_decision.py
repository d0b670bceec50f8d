"""One holding agency's decision, step by step, as a durable workflow.

Updates (human steps; each takes the acting ``Actor`` and a command, and each
validator runs the same pure ``domain.handlers`` function as the handler, so
a wrong role, a wrong agency or an inconsistent decision is refused before
anything is written; the update id is the task id, so a double click is
deduplicated by the server):

    assess_purpose, seek_consent, record_consent, consent_not_sought,
    request_advice, give_advice, determine_lawful_basis, select_information,
    record_decision, record_informing, open_package, acknowledge_receipt,
    revoke_package (in ``workflows.receipt_steps``), record_consent_withdrawn (in
    ``workflows.consent_steps``)

Signals (from the parent request, signed: ``infra.guard``): ``rating_changed``,
``withdrawn``.
Queries: ``current`` (the decision state), ``tasks`` (open tasks and the stream
version that task ids are made from).

Timers: every outstanding step (decision, consent, advice, acknowledgement)
has escalation points from the hub policy; when one passes with the step
still waiting, the escalation (and at the deadline, the missed deadline) is
appended and the people named are notified. The decision keeps going. One timer
runs, for the next point, started only when that point moves
(``workflows.decision_watch``); search attributes are upserted when they change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import commands as c
    from domain import handlers as h
    from domain.decision import AgencyDecisionState, evolve, fold, open_tasks
    from domain.events import Event
    from domain.events.catalogue import (
        AgencyDecisionCompleted,
        DeadlineMissed,
        RatingChanged,
        RequestWithdrawn,
    )
    from domain.models import Actor
    from domain.policy import escalation_schedule
    from domain.request import deadline_reached, outstanding
    from domain.vocabulary import DeadlineKind, EscalationLevel, Role
    from workflows.agency_messages import (
        AgencyDecisionInput,
        AgencyDecisionResult,
        StepResult,
        TaskList,
    )
    from workflows.answers import AnsweredSteps
    from workflows.common import (
        SignalSignature,
        StreamWriter,
        agency_stream,
        decided,
        notify,
    )
    from workflows.consent_steps import ConsentWithdrawalSteps
    from workflows.decision_watch import ONE_TIMER, Alarm, count, next_due, overdue
    from workflows.package_steps import send_package
    from workflows.receipt_steps import PackageReceiptSteps
    from workflows.search import PATCH as SEARCH_ATTRIBUTES
    from workflows.search import SearchAttributes


Decide = Callable[[datetime], list[Event]]


@workflow.defn
class AgencyDecisionWorkflow(ConsentWithdrawalSteps, PackageReceiptSteps):
    @workflow.init
    def __init__(self, input: AgencyDecisionInput) -> None:
        self.state = input.state
        self.policy = input.policy
        self.writer = StreamWriter(
            agency_stream(self.state.request_id, self.state.agency), self.state.request_id
        )
        self.lock = asyncio.Lock()
        self.changed = False
        self.missed: list[DeadlineMissed] = []
        self.completed: AgencyDecisionCompleted | None = None
        self._fired: set[tuple[DeadlineKind, datetime, EscalationLevel]] = set()
        self._started: dict[tuple[DeadlineKind, datetime], datetime] = {}
        self.answered = AnsweredSteps()
        self._sending = False
        """A package is being sealed and its sending recorded (holding the lock)."""
        self.alarm = Alarm(self._wake)
        self.search = SearchAttributes()

    def _wake(self) -> None:
        self.changed = True

    # -- the main loop ---------------------------------------------------------------------

    @workflow.run
    async def run(self, input: AgencyDecisionInput) -> AgencyDecisionResult:
        while self.state.is_open:
            if self.state.shared and self.state.package is None:
                await self._send_package()
                continue
            wake_at = await self._escalate_due()
            self._index()
            if workflow.patched(ONE_TIMER):
                self.alarm.set(wake_at)  # a new timer only if the next point moved
                await workflow.wait_condition(lambda: self.changed)
            else:
                timeout = None if wake_at is None else max(wake_at - workflow.now(), timedelta(0))
                try:  # noqa: SIM105 - every timed wait names its timeout as a business event
                    await workflow.wait_condition(lambda: self.changed, timeout=timeout)
                except TimeoutError:
                    pass  # a deadline point passed: escalated at the top of the loop
            self.changed = False
        self.alarm.cancel()
        self._index()
        await workflow.wait_condition(workflow.all_handlers_finished)
        decision = self.state.decision
        return AgencyDecisionResult(
            agency=self.state.agency,
            outcome=decision.outcome if decision else None,
            completed=self.completed,
            missed=self.missed,
            withdrawn=self.state.withdrawn_at is not None,
        )

    async def _apply(self, events: list[Event], actor: Actor | None) -> None:
        await self.writer.append(events, actor)
        for event in events:
            if isinstance(event, DeadlineMissed):
                self.missed.append(event)
            if isinstance(event, AgencyDecisionCompleted):
                self.completed = event
        self.state = fold(self.state, events)
        self.changed = True
        count(events)

    def _index(self) -> None:
        """Upsert the search attributes that changed (rating, agencies, deadline, overdue)."""
        if workflow.patched(SEARCH_ATTRIBUTES):
            s = self.state
            self.search.set(
                rating=s.rating,
                agencies=[s.agency, s.requesting_agency],
                due_at=next_due(s),
                overdue=overdue(s),
            )

    async def _send_package(self) -> None:
        async with self.lock:
            self._sending = True
            package_id = workflow.uuid4()
            sent = await send_package(self.state, package_id)
            command = c.RecordPackageSent(package_id=package_id, sha256=sent.sha256)
            events = decided(
                lambda: h.decide_package_sent(self.state, command, workflow.now(), self.policy)
            )
            await self._apply(events, None)
            self._sending = False
        await notify(
            self.state.request_id,
            self.state.requesting_agency,
            [Role.RECIPIENT],
            "package_delivered",
            due_at=self.state.package.acknowledge_by if self.state.package else None,
        )

    async def _escalate_due(self) -> datetime | None:
        """Fire every escalation point already passed; return when the next one falls."""
        now = workflow.now()
        next_at: datetime | None = None
        for kind in DeadlineKind:
            due = outstanding(self.state, kind)
            if due is None:
                continue
            start = self._started.setdefault(
                (kind, due),
                self.state.received_at if kind is DeadlineKind.DECISION else now,
            )
            for point, at in escalation_schedule(start, due, self.state.rating, self.policy):
                key = (kind, due, point.level)
                if key in self._fired:
                    continue
                if at > now:
                    next_at = at if next_at is None else min(next_at, at)
                    continue
                self._fired.add(key)
                async with self.lock:
                    events = deadline_reached(self.state, kind, point, now)
                    await self._apply(events, None)
                if events:
                    await notify(
                        self.state.request_id,
                        self.state.agency,
                        [str(r) for r in point.notify],
                        f"deadline_{point.level}",
                        due_at=due,
                    )
        return next_at

    # -- signals and queries from outside ---------------------------------------------------

    @workflow.signal
    def rating_changed(self, event: RatingChanged, signed: SignalSignature = None) -> None:
        self.state = evolve(self.state, event)
        self.changed = True

    @workflow.signal
    def withdrawn(self, event: RequestWithdrawn, signed: SignalSignature = None) -> None:
        self.state = evolve(self.state, event)
        self.changed = True

    @workflow.query
    def current(self) -> AgencyDecisionState:
        return self.state

    @workflow.query
    def tasks(self) -> TaskList:
        return TaskList(version=self.writer.version, tasks=open_tasks(self.state))

    # -- the human steps ------------------------------------------------------------------

    def _check(self, decide: Decide) -> None:
        decided(self.answered.check)
        decided(lambda: decide(workflow.now()))

    async def _step(self, actor: Actor, decide: Decide) -> StepResult:
        async with self.lock:
            events = decided(lambda: decide(workflow.now()))
            await self._apply(events, actor)
            self.answered.record(actor, events, self.writer.version)
            return StepResult(
                version=self.writer.version,
                position=self.writer.position,
                tasks=open_tasks(self.state),
            )

    @workflow.update
    async def assess_purpose(self, actor: Actor, command: c.AssessPurpose) -> StepResult:
        return await self._step(
            actor, lambda now: h.decide_assess_purpose(self.state, command, actor, now)
        )

    @assess_purpose.validator
    def _assess_purpose(self, actor: Actor, command: c.AssessPurpose) -> None:
        self._check(lambda now: h.decide_assess_purpose(self.state, command, actor, now))

    @workflow.update
    async def seek_consent(self, actor: Actor, command: c.SeekConsent) -> StepResult:
        return await self._step(
            actor, lambda now: h.decide_seek_consent(self.state, command, actor, now, self.policy)
        )

    @seek_consent.validator
    def _seek_consent(self, actor: Actor, command: c.SeekConsent) -> None:
        self._check(lambda now: h.decide_seek_consent(self.state, command, actor, now, self.policy))

    @workflow.update
    async def record_consent(self, actor: Actor, command: c.RecordConsent) -> StepResult:
        return await self._step(
            actor, lambda now: h.decide_record_consent(self.state, command, actor, now)
        )

    @record_consent.validator
    def _record_consent(self, actor: Actor, command: c.RecordConsent) -> None:
        self._check(lambda now: h.decide_record_consent(self.state, command, actor, now))

    @workflow.update
    async def consent_not_sought(
        self, actor: Actor, command: c.RecordConsentNotSought
    ) -> StepResult:
        return await self._step(
            actor, lambda now: h.decide_consent_not_sought(self.state, command, actor, now)
        )

    @consent_not_sought.validator
    def _consent_not_sought(self, actor: Actor, command: c.RecordConsentNotSought) -> None:
        self._check(lambda now: h.decide_consent_not_sought(self.state, command, actor, now))

    @workflow.update
    async def request_advice(self, actor: Actor, command: c.RequestAdvice) -> StepResult:
        result = await self._step(
            actor,
            lambda now: h.decide_request_advice(self.state, command, actor, now, self.policy),
        )
        await notify(
            self.state.request_id,
            self.state.agency,
            [Role.ADVISOR],
            "advice_requested",
            due_at=self.state.advice_respond_by,
        )
        return result

    @request_advice.validator
    def _request_advice(self, actor: Actor, command: c.RequestAdvice) -> None:
        self._check(
            lambda now: h.decide_request_advice(self.state, command, actor, now, self.policy)
        )

    @workflow.update
    async def give_advice(self, actor: Actor, command: c.GiveAdvice) -> StepResult:
        return await self._step(
            actor, lambda now: h.decide_give_advice(self.state, command, actor, now)
        )

    @give_advice.validator
    def _give_advice(self, actor: Actor, command: c.GiveAdvice) -> None:
        self._check(lambda now: h.decide_give_advice(self.state, command, actor, now))

    @workflow.update
    async def determine_lawful_basis(
        self, actor: Actor, command: c.DetermineLawfulBasis
    ) -> StepResult:
        return await self._step(
            actor, lambda now: h.decide_lawful_basis(self.state, command, actor, now)
        )

    @determine_lawful_basis.validator
    def _determine_lawful_basis(self, actor: Actor, command: c.DetermineLawfulBasis) -> None:
        self._check(lambda now: h.decide_lawful_basis(self.state, command, actor, now))

    @workflow.update
    async def select_information(self, actor: Actor, command: c.SelectInformation) -> StepResult:
        return await self._step(
            actor,
            lambda now: h.decide_select_information(self.state, command, actor, now, self.policy),
        )

    @select_information.validator
    def _select_information(self, actor: Actor, command: c.SelectInformation) -> None:
        self._check(
            lambda now: h.decide_select_information(self.state, command, actor, now, self.policy)
        )

    @workflow.update
    async def record_decision(self, actor: Actor, command: c.RecordDecision) -> StepResult:
        result = await self._step(
            actor, lambda now: h.decide_record_decision(self.state, command, actor, now)
        )
        if self.state.review_pending:
            await notify(self.state.request_id, self.state.agency, [Role.ADVISOR], "review_urgent")
        await notify(
            self.state.request_id,
            self.state.requesting_agency,
            [Role.COORDINATOR],
            "decision_recorded",
        )
        return result

    @record_decision.validator
    def _record_decision(self, actor: Actor, command: c.RecordDecision) -> None:
        self._check(lambda now: h.decide_record_decision(self.state, command, actor, now))

    @workflow.update
    async def record_informing(self, actor: Actor, command: c.RecordInforming) -> StepResult:
        return await self._step(actor, lambda now: h.decide_inform(self.state, command, actor, now))

    @record_informing.validator
    def _record_informing(self, actor: Actor, command: c.RecordInforming) -> None:
        self._check(lambda now: h.decide_inform(self.state, command, actor, now))
