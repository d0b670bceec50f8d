"""The permission matrix: who may do what, for which agency."""

from __future__ import annotations

import pytest

from domain.errors import NotPermitted
from domain.models import Actor
from domain.permissions import HUB_ROLES, MATRIX, Action, Reach, allows, require, roles_for
from domain.vocabulary import Role


def actor(role: Role, agency: str | None = None) -> Actor:
    return Actor(user_id="u1", role=role, agency=agency)


def test_every_action_is_in_the_matrix_and_the_system_may_take_none() -> None:
    assert set(MATRIX) == set(Action)
    assert all(Role.SYSTEM not in roles for roles in MATRIX.values())


def test_hub_roles_act_for_any_agency() -> None:
    coordinator = actor(Role.COORDINATOR)
    assert allows(coordinator, Action.OPEN_REQUEST)
    assert allows(coordinator, Action.FOLLOW_REQUESTS, "police")
    assert allows(actor(Role.COMPLIANCE_OFFICER), Action.REVIEW_RETENTION, "police")


def test_agency_roles_act_only_for_their_own_agency() -> None:
    worker = actor(Role.AGENCY_WORKER, "police")
    assert allows(worker, Action.DECIDE, "police")
    assert not allows(worker, Action.DECIDE, "gp_riverside")
    assert not allows(actor(Role.AGENCY_WORKER), Action.DECIDE)  # no agency, no reach
    assert MATRIX[Action.DECIDE][Role.AGENCY_WORKER] is Reach.OWN


def test_a_role_outside_the_matrix_is_refused_with_the_roles_that_may() -> None:
    with pytest.raises(NotPermitted) as refused:
        require(actor(Role.AGENCY_WORKER, "police"), Action.OPEN_REQUEST, doing="open a request")
    assert refused.value.message == (
        "only a hub coordinator may open a request; you are acting as agency worker"
    )


def test_the_right_role_of_another_agency_is_told_whose_step_it_is() -> None:
    with pytest.raises(NotPermitted) as refused:
        require(actor(Role.ADVISOR, "gp_riverside"), Action.ADVISE, "police", "give advice")
    assert refused.value.message == "only police's own people may give advice"


def test_steps_are_split_between_workers_and_advisors() -> None:
    assert roles_for(Action.DECIDE) == {Role.AGENCY_WORKER}
    assert roles_for(Action.ADVISE) == {Role.ADVISOR}
    assert roles_for(Action.WORK_TASKS) == {Role.AGENCY_WORKER, Role.ADVISOR}
    assert roles_for(Action.RECEIVE_PACKAGE) == {Role.RECIPIENT}


def test_the_hub_roles_are_those_that_reach_every_agency_in_everything_they_do() -> None:
    assert {Role.COORDINATOR, Role.COMPLIANCE_OFFICER} == HUB_ROLES
