"""What every task page starts from: the task, its decision's state, who is looking, and
what the page shows them (the showing recorded first, by :func:`app.task_view.task_view`).

Who may see a task is the permission matrix's answer (``WORK_TASKS`` for the task's
agency); which step they may take is asked again when they take it (``DECIDE``,
``ADVISE``), by the same matrix, in the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import Request, Response

from api.deps import require_page
from api.forms import FormState
from api.rendering import VOCABULARY, render
from api.services import Services
from app import timetext
from app.identity import actor_of
from app.people import names_by_id
from app.task_view import TaskView, task_view
from domain.decision import AgencyDecisionState, Task, TaskKind, open_tasks
from domain.models import Actor
from domain.permissions import Action, require
from domain.rules import ApplicableBases, advisor_agrees, applicable_bases, needs_advisor_agreement
from domain.tasks import TaskId
from infra.auth import Principal


@dataclass(frozen=True)
class TaskPage:
    task_id: str
    ref: TaskId
    actor: Actor
    state: AgencyDecisionState

    @property
    def needs_override(self) -> bool:
        """Sharing now would need an advisor's agreement that has not been given."""
        state = self.state
        if state.assessment is None:
            return False
        facts = state.facts()
        return needs_advisor_agreement(facts) and not advisor_agrees(facts.advice)

    def mine(self) -> list[Task]:
        """The tasks now open on this decision for the viewer's role."""
        return [t for t in open_tasks(self.state) if t.role == self.actor.role]


async def next_tasks(
    services: Services, actor: Actor, request_id: UUID, agency: str
) -> list[tuple[Task, str]]:
    """The tasks open now on this decision for ``actor``'s role, each with its id."""
    listed = await services.requests.tasks(request_id, agency)
    return [
        (t, str(TaskId(request_id, agency, str(t.kind), listed.version)))
        for t in listed.tasks
        if t.role == actor.role
    ]


async def open_task(
    services: Services, principal: Principal, task_id: str, *actions: Action
) -> TaskPage:
    """The task behind ``task_id`` for a page, if the matrix lets ``principal`` work it."""
    require_page(principal, Action.WORK_TASKS)
    ref = TaskId.parse(task_id)
    actor = actor_of(principal)
    for action in (Action.WORK_TASKS, *actions):
        require(actor, action, ref.agency)
    state = await services.requests.decision(ref.request_id, ref.agency)
    return TaskPage(task_id, ref, actor, state)


def steps(state: AgencyDecisionState) -> list[tuple[str, bool]]:
    """The decision's steps as a checklist: what is done and what is still to do."""
    done: list[tuple[str, bool]] = [("Assess the purpose", state.assessment is not None)]
    if state.assessment is None or state.consent_needed:
        done.append(("Resolve consent", state.consent_resolved))
    if state.advice_respond_by is not None or state.advice:
        done.append(("Advice from an advisor", bool(state.advice)))
    done += [
        ("Determine the lawful basis", state.lawful_basis is not None),
        ("Select the information", bool(state.items)),
        ("Record the decision", state.decision is not None),
    ]
    if state.decision is not None and state.decision.inform is not None:
        done.append(("Tell the person, or record why not", state.informed is not None))
    return done


def bases_for(state: AgencyDecisionState) -> ApplicableBases | None:
    return applicable_bases(state.facts()) if state.assessment is not None else None


async def show(
    services: Services,
    request: Request,
    principal: Principal,
    csrf: str,
    page: TaskPage,
    template: str,
    form: FormState | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A task page: the request and the decision so far (the showing recorded first)."""
    now = datetime.now(UTC)
    view: TaskView = await task_view(services.events, services.keyring, page.actor, page.state)
    agencies = {a.code: a.name for a in await services.agencies.list()}
    state = page.state
    return render(
        services,
        request,
        template,
        principal=principal,
        csrf=csrf,
        task_id=page.task_id,
        kind=page.ref.kind,
        kinds=TaskKind,
        state=state,
        view=view,
        steps=steps(state),
        agencies=agencies,
        people=await names_by_id(services.users),
        bases=bases_for(state),
        left=timetext.time_left(state.decision_due_at, now),
        overdue=state.decision_due_at <= now,
        form=form or FormState(),
        status_code=status_code,
        **VOCABULARY,
        **context,
    )
