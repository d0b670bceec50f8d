"""Commands on sharing requests: the one application layer the API, CLI and demo share.

Plain text from people is sealed under the subject's key here, at the edge,
so workflows and Temporal only ever carry ciphertext. Domain rules run before
anything starts (``decide_open``), and again in the workflows' validators.
Refusals from a workflow come back as the domain's own errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from pydantic import BaseModel
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from activities.models import EventEnvelope
from app import idempotency
from app.brief import read_brief as read_brief
from app.consistency import ReadModels
from app.refusals import refusals
from app.request_inputs import NewRequest
from domain.commands import ChangeRating, OpenRequest, WithdrawRequest
from domain.decision import AgencyDecisionState
from domain.events import EventMetadata, Sealed
from domain.models import (
    Actor,
    Agency,
    AgencyRegister,
    Isp,
    IspRegister,
    SharingRequest,
)
from domain.permissions import Action, require
from domain.policy import DEFAULT_POLICY, HubPolicy
from domain.request import decide_open, decide_share_proactively, registered_holders
from domain.tasks import TaskId
from domain.vocabulary import Rating
from infra.crypto import Keyring
from infra.directory import AgencyDirectory, NotFoundError
from workflows.agency_decision import AgencyDecisionWorkflow
from workflows.agency_messages import StepResult, TaskList
from workflows.common import (
    agency_stream,
    agency_workflow_id,
    request_stream,
    request_workflow_id,
)
from workflows.request_messages import (
    RequestView as RequestView,  # what a query of the request answers, for the edges
)
from workflows.request_messages import SharingRequestInput, SharingRequestResult
from workflows.sharing_request import SharingRequestWorkflow

log = structlog.get_logger(__name__)

OPENING_WAIT_S = 10.0


class RequestService:
    def __init__(
        self,
        client: Client,
        keyring: Keyring,
        agencies: AgencyDirectory,
        task_queue: str,
        policy: HubPolicy = DEFAULT_POLICY,
        *,
        read_models: ReadModels | None = None,
    ) -> None:
        self.client = client
        self.keyring = keyring
        self.agencies = agencies
        self.task_queue = task_queue
        self.policy = policy
        self.read_models = read_models
        """Commands wait for these to show what they recorded (``app.consistency``);
        without them (tests of the workflows alone) commands return at once."""

    async def _shown(self, stream_id: str, version: int) -> None:
        if self.read_models is not None:
            await self.read_models.show(stream_id, version)

    async def seal(self, subject_id: UUID, value: Any) -> Sealed:
        return await self.keyring.seal(subject_id, value)

    async def registers(self) -> tuple[AgencyRegister, IspRegister]:
        agencies = AgencyRegister(
            agencies=[
                Agency(
                    code=a.code,
                    name=a.name,
                    kind=a.kind,
                    public_key=a.public_key,
                    public_authority=a.public_authority,
                )
                for a in await self.agencies.list()
            ]
        )
        isps = IspRegister(
            isps=[
                Isp(
                    isp_id=p.id,
                    agencies=list(p.agencies),
                    title=p.title,
                    signed_on=p.valid_from,
                    expires_on=p.valid_to,
                    reference=p.reference,
                )
                for p in await self.agencies.protocols()
            ]
        )
        return agencies, isps

    async def open_request(
        self,
        actor: Actor,
        new: NewRequest,
        *,
        proactive: bool = False,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Validate, seal and start a request; returns its id. ``proactive``: a practitioner's
        unsolicited share (``app.proactive``), refused unless theirs to make, before sealing.
        ``idempotency_key`` (``app.idempotency``): the same key from the same actor with the
        same request answers with the request it opened first, opening nothing; with another
        request it is refused (ValidationFailed), nothing written."""
        keyed = None
        if idempotency_key is not None:
            body = {"proactive": proactive, "request": new.model_dump(mode="json")}
            keyed = idempotency.opening_ids(
                self.keyring.idempotency_key,
                actor.user_id,
                idempotency.check_key(idempotency_key),
                body,
            )
            if await self._opened_before(keyed):
                return keyed.request_id
        if proactive:
            require(actor, Action.SHARE_PROACTIVELY, actor.agency, doing="share proactively")
        agencies, isps = await self.registers()
        now = datetime.now(UTC)
        # Refused before anything is sealed: a refusal must not leave a subject key behind.
        registered_holders(new.requesting_agency, new.holding_agencies, agencies, isps, now)
        if keyed is None:
            request_id, subject_id, event_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        else:
            request_id, subject_id, event_id = keyed.request_id, keyed.subject_id, keyed.event_id
        session = self.keyring.session()
        request = SharingRequest(
            request_id=request_id,
            subject_id=subject_id,
            subject_kind=new.subject_kind,
            requesting_agency=new.requesting_agency,
            requested_by=new.requested_by,
            holding_agencies=new.holding_agencies,
            purpose_category=new.purpose_category,
            rating=new.rating,
            subject_details=await session.seal(subject_id, new.subject.model_dump(mode="json")),
            purpose=await session.seal(subject_id, new.purpose),
            information_sought=await session.seal(subject_id, new.information_sought),
            consent_already_held=new.consent_already_held,
            allegation_against_staff=new.allegation_against_staff,
        )
        decide = decide_share_proactively if proactive else decide_open
        (opened,) = decide(OpenRequest(request=request), actor, now, agencies, isps, self.policy)
        workflow_id = request_workflow_id(request_id)
        envelope = EventEnvelope.wrap(
            event_id,
            opened,
            EventMetadata(
                actor_id=actor.user_id,
                actor_role=str(actor.role),
                actor_agency=actor.agency,
                workflow_id=workflow_id,
                correlation_id=request_id,
            ),
        )
        start = WithStartWorkflowOperation(
            SharingRequestWorkflow.run,
            SharingRequestInput(opened=envelope, policy=self.policy),
            id=workflow_id,
            task_queue=self.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo=None if keyed is None else {idempotency.MEMO_DIGEST: keyed.digest},
        )
        try:
            position = await self._opening_recorded(start, workflow_id)
        except WorkflowAlreadyStartedError:
            # The same key's other call started it first (a double submission at once).
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await start.workflow_handle()  # the start's own answer, taken (said above)
            if keyed is not None and await self._opened_before(keyed):
                return request_id
            raise
        if position is not None and self.read_models is not None:
            await self.read_models.reach(position, request_stream(request_id), 1)
        return request_id

    async def _opened_before(self, keyed: idempotency.OpeningIds) -> bool:
        """Whether the opening under this key exists already (then shown in the read models,
        as the first call waited for); refused if it asked otherwise."""
        try:
            described = await self._request(keyed.request_id).describe()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        memo = await described.memo()
        if not hmac.compare_digest(str(memo.get(idempotency.MEMO_DIGEST, "")), keyed.digest):
            raise idempotency.refuse_other_body()
        # Answered as the first call was: once its opening shows in the read models (bounded).
        await self._shown(request_stream(keyed.request_id), 1)
        return True

    async def _opening_recorded(
        self,
        start: WithStartWorkflowOperation[SharingRequestWorkflow, SharingRequestResult],
        workflow_id: str,
    ) -> int | None:
        """Start the request's workflow and wait, bounded, until it has recorded its
        opening (which it does once its agencies' decisions exist): the request is then
        whole. One call (update with start), answered when the opening is recorded, with
        the log position it reached; None if the wait ran out after the start (the
        request goes on; only reads lag). Fails as the start fails."""
        opening = self.client.execute_update_with_start_workflow(
            SharingRequestWorkflow.opening_recorded, start_workflow_operation=start
        )
        wait_s = OPENING_WAIT_S if self.read_models is None else self.read_models.wait_s
        try:
            return await asyncio.wait_for(opening, wait_s)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            # No worker took the start in time (the call answers only then): the request is
            # open if the start was answered or its workflow exists, and its opening is
            # recorded when a worker runs.
            try:
                await start.workflow_handle()  # done by now: the start's answer, or why not
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                await self._started(workflow_id)
            log.warning("request_opening_slow", wait_s=wait_s)
            return None

    async def _started(self, workflow_id: str) -> None:
        """Whether a workflow whose start went unanswered exists; fails if it does not."""
        try:
            await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise TimeoutError("the workflow engine did not start the request") from None
            raise

    async def step(
        self,
        actor: Actor,
        request_id: UUID,
        agency: str,
        update: str,
        command: BaseModel,
        task_id: str | None = None,
    ) -> StepResult:
        """Run one human step (an update of the agency's decision workflow).

        ``task_id`` is the update id: the same id twice runs the step once. Without one,
        it is derived from the decision's current version, so a double submission of the
        same form is harmless and a stale one is refused.
        """
        handle = self.client.get_workflow_handle_for(
            AgencyDecisionWorkflow.run, agency_workflow_id(request_id, agency)
        )
        if task_id is None:
            tasks = await handle.query(AgencyDecisionWorkflow.tasks)
            task_id = str(TaskId(request_id, agency, update, tasks.version))
        result: StepResult = await refusals(
            handle.execute_update(update, args=[actor, command], id=task_id, result_type=StepResult)
        )
        stream = agency_stream(request_id, agency)
        if result.position is not None and self.read_models is not None:
            await self.read_models.reach(result.position, stream, result.version)
        else:
            await self._shown(stream, result.version)
        return result

    async def decision(self, request_id: UUID, agency: str) -> AgencyDecisionState:
        """The agency's decision as its workflow holds it now (ids, enums, ciphertext)."""
        handle = self.client.get_workflow_handle_for(
            AgencyDecisionWorkflow.run, agency_workflow_id(request_id, agency)
        )
        try:
            return await handle.query(AgencyDecisionWorkflow.current)
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                raise NotFoundError(f"no decision of {agency} on request {request_id}") from None
            raise

    async def tasks(self, request_id: UUID, agency: str) -> TaskList:
        handle = self.client.get_workflow_handle_for(
            AgencyDecisionWorkflow.run, agency_workflow_id(request_id, agency)
        )
        return await handle.query(AgencyDecisionWorkflow.tasks)

    async def change_rating(
        self, actor: Actor, request_id: UUID, rating: Rating, rationale: str, subject_id: UUID
    ) -> RequestView:
        command = ChangeRating(rating=rating, rationale=await self.seal(subject_id, rationale))
        handle = self._request(request_id)
        view = await refusals(
            handle.execute_update(SharingRequestWorkflow.change_rating, args=[actor, command])
        )
        await self._shown(request_stream(request_id), view.version)
        return view

    async def withdraw(
        self, actor: Actor, request_id: UUID, reason: str, subject_id: UUID
    ) -> RequestView:
        command = WithdrawRequest(reason=await self.seal(subject_id, reason))
        handle = self._request(request_id)
        view = await refusals(
            handle.execute_update(SharingRequestWorkflow.withdraw, args=[actor, command])
        )
        await self._shown(request_stream(request_id), view.version)
        return view

    async def view(self, request_id: UUID) -> RequestView:
        return await self._request(request_id).query(SharingRequestWorkflow.current)

    async def result(self, request_id: UUID) -> SharingRequestResult:
        return await self._request(request_id).result()

    def _request(
        self, request_id: UUID
    ) -> WorkflowHandle[SharingRequestWorkflow, SharingRequestResult]:
        return self.client.get_workflow_handle_for(
            SharingRequestWorkflow.run, request_workflow_id(request_id)
        )


async def view_of(requests: RequestService, request_id: UUID) -> RequestView:
    """The request's current state; a request that never existed is a 404."""
    try:
        return await requests.view(request_id)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise NotFoundError(f"no request {request_id}") from None
        raise
