"""A sharing request, from opening to closing, as a durable workflow.

It records the opening (already validated by ``domain.request.decide_open`` at
the edge), runs one child :class:`AgencyDecisionWorkflow` per holding agency,
follows their outcomes, and closes the request when every agency is done or
the request is withdrawn, telling the requester.

Updates: ``opening_recorded`` (sent with the start: answers with the opening's log
position once it is recorded); coordinator: ``change_rating`` (deadlines move; the children are
told), ``withdraw`` (the children stop; the request closes).
Queries: ``current`` (the request state: rating, deadline, each agency's
progress).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from temporalio import workflow
from temporalio.workflow import ChildWorkflowHandle, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from domain.commands import ChangeRating, WithdrawRequest
    from domain.decision import start
    from domain.events import Event
    from domain.events.catalogue import RatingChanged, RequestOpened, RequestWithdrawn
    from domain.models import Actor
    from domain.request import (
        decide_change_rating,
        decide_close,
        decide_withdraw,
        fold_request,
        start_request,
    )
    from domain.vocabulary import Outcome, Role
    from workflows.agency_decision import AgencyDecisionWorkflow
    from workflows.agency_messages import AgencyDecisionInput, AgencyDecisionResult
    from workflows.common import (
        StreamWriter,
        agency_workflow_id,
        decided,
        notify,
        request_stream,
    )
    from workflows.request_messages import RequestView, SharingRequestInput, SharingRequestResult
    from workflows.search import PATCH as SEARCH_ATTRIBUTES
    from workflows.search import SearchAttributes


CHILDREN_UNDER_LOCK = "children-started-under-lock"
"""Patch: the children are started holding the update lock (see ``run``)."""

CHILDREN_BEFORE_OPENING = "children-started-before-the-opening-is-recorded"
"""Patch: the children exist before the opening (which lists their tasks) is recorded."""


@workflow.defn
class SharingRequestWorkflow:
    @workflow.init
    def __init__(self, input: SharingRequestInput) -> None:
        opened = input.opened.unwrap()
        assert isinstance(opened, RequestOpened)
        self.opened = opened
        self.policy = input.policy
        self.state = start_request(opened)
        self.writer = StreamWriter(request_stream(opened.request_id), opened.request_id)
        self.lock = asyncio.Lock()
        self.children: dict[str, ChildWorkflowHandle[AgencyDecisionWorkflow, AgencyDecisionResult]]
        self.children = {}
        self.rating_change: RatingChanged | None = None
        """The latest re-rating, for children started after it."""
        self.search = SearchAttributes()
        self.opening_position: int | None = None
        """Where the opening landed in the log, once recorded (``opening_recorded``)."""

    @workflow.run
    async def run(self, input: SharingRequestInput) -> SharingRequestResult:
        self._index()
        if workflow.patched(CHILDREN_BEFORE_OPENING):
            # Every read model row comes from the log, and the opening is what lists each
            # holder's first task: record it once the decisions that take those tasks
            # exist, so no inbox ever offers a task its workflow cannot take.
            async with self.lock:
                await self._start_children(catch_up=True)
                await self._record_opening(input)
            await self._announce_opening()
        else:
            await self._open_then_start_children(input)
        results = await asyncio.gather(*self.children.values())
        async with self.lock:
            for result in results:
                events: list[Event] = [*result.missed]
                if result.completed is not None:
                    events.append(result.completed)
                self.state = fold_request(self.state, events)
            closing = decide_close(self.state, workflow.now())
            await self._record(closing, None)
            self._index()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await notify(
            self.opened.request_id,
            self.opened.requesting_agency,
            [Role.COORDINATOR, Role.AGENCY_WORKER],
            "request_closed",
        )
        return SharingRequestResult(
            request_id=self.opened.request_id,
            shared_by=[r.agency for r in results if r.outcome is Outcome.SHARE],
            not_shared_by=[r.agency for r in results if r.outcome is Outcome.NOT_SHARE],
            withdrawn=self.state.withdrawn_at is not None,
        )

    async def _open_then_start_children(self, input: SharingRequestInput) -> None:
        """The order before ``CHILDREN_BEFORE_OPENING``, kept for open requests' replay."""
        async with self.lock:
            await self._record_opening(input)
        await self._announce_opening()
        if workflow.patched(CHILDREN_UNDER_LOCK):
            # An update can run before the children exist (while the opening is recorded
            # and announced): before this patch a withdrawal then reached no child and the
            # request never closed, and a re-rating left the children on the old deadline.
            # Now the children start holding the lock and hear of any earlier update.
            async with self.lock:
                await self._start_children(catch_up=True)
        else:
            await self._start_children(catch_up=False)

    async def _record_opening(self, input: SharingRequestInput) -> None:
        # The opening's event id comes from the edge, so a retried start writes it once.
        recorded = await self.writer.append_envelopes([input.opened])
        self.opening_position = recorded.positions[0]

    async def _announce_opening(self) -> None:
        await notify(
            self.opened.request_id,
            None,
            [Role.AGENCY_WORKER],
            "request_opened",
            due_at=self.state.decision_due_at,
        )

    async def _start_children(self, *, catch_up: bool) -> None:
        if catch_up and self.state.withdrawn_at is not None:
            return  # withdrawn before any agency was asked: nothing to start or stop
        for holder in self.opened.holders:
            child = await workflow.start_child_workflow(
                AgencyDecisionWorkflow.run,
                AgencyDecisionInput(state=start(self.opened, holder.agency), policy=self.policy),
                id=agency_workflow_id(self.opened.request_id, holder.agency),
                parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
            )
            self.children[holder.agency] = child
            if catch_up and self.rating_change is not None:
                await child.signal(AgencyDecisionWorkflow.rating_changed, self.rating_change)

    async def _record(self, events: Sequence[Event], actor: Actor | None) -> None:
        await self.writer.append(events, actor)
        self.state = fold_request(self.state, events)

    def _index(self) -> None:
        """Upsert the search attributes that changed (rating, agencies, the deadline)."""
        if not workflow.patched(SEARCH_ATTRIBUTES):
            return
        state = self.state
        ended = state.closed_at is not None or state.withdrawn_at is not None
        self.search.set(
            rating=state.rating,
            agencies=[state.requesting_agency, *(a.agency for a in state.agencies)],
            due_at=None if ended else state.decision_due_at,
        )

    @workflow.query
    def current(self) -> RequestView:
        return RequestView(state=self.state, version=self.writer.version)

    @workflow.update
    async def opening_recorded(self) -> int:
        """The log position of the opening, once recorded. The edge sends this with the
        start (update with start, ``app.requests``): one call that answers when the request
        is whole, without polling, and tells the read models how far to catch up."""
        await workflow.wait_condition(lambda: self.opening_position is not None)
        assert self.opening_position is not None
        return self.opening_position

    @workflow.update
    async def change_rating(self, actor: Actor, command: ChangeRating) -> RequestView:
        async with self.lock:
            events = decided(
                lambda: decide_change_rating(
                    self.state, command, actor, workflow.now(), self.policy
                )
            )
            await self._record(events, actor)
            self._index()
            for event in events:
                if isinstance(event, RatingChanged):
                    self.rating_change = event
                    for child in self.children.values():
                        await child.signal(AgencyDecisionWorkflow.rating_changed, event)
            return self.current()

    @change_rating.validator
    def _change_rating(self, actor: Actor, command: ChangeRating) -> None:
        decided(
            lambda: decide_change_rating(self.state, command, actor, workflow.now(), self.policy)
        )

    @workflow.update
    async def withdraw(self, actor: Actor, command: WithdrawRequest) -> RequestView:
        async with self.lock:
            events = decided(lambda: decide_withdraw(self.state, command, actor, workflow.now()))
            await self._record(events, actor)
            self._index()
            for event in events:
                if isinstance(event, RequestWithdrawn):
                    for child in self.children.values():
                        await child.signal(AgencyDecisionWorkflow.withdrawn, event)
            return self.current()

    @withdraw.validator
    def _withdraw(self, actor: Actor, command: WithdrawRequest) -> None:
        decided(lambda: decide_withdraw(self.state, command, actor, workflow.now()))
