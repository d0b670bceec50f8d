"""A compliance replay of the log equals what the live workflows hold, on every path.

``app.history.request_history`` rebuilds a request purely from its events with the
same pure ``evolve`` functions the workflows use; here it is compared, field for
field (sealed values opened: the store binds each to its place, so its ciphertext
is not the workflow's), with the state the running (or finished) workflows answer
to queries, for
every decision path of ``test_paths`` (the missed deadline is checked there, in
its own test) and withdrawals.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

import pytest

from app import scenarios
from app.container import Infrastructure
from app.history import request_history
from app.scenario_builder import Hub, Walk, open_request
from domain.decision import TaskKind
from domain.models import sealed_values
from domain.vocabulary import Rating


async def assert_replay_equals_live(hub: Hub, infra: Infrastructure, rid: UUID) -> None:
    live = await hub.requests.view(rid)
    history = await request_history(infra.store, infra.keyring, rid, reveal=False)
    assert history.request == live.state
    holders = [p.agency for p in live.state.agencies]
    assert holders and {a.agency for a in history.agencies} <= set(holders)
    keys = infra.keyring.session()
    for replayed in history.agencies:
        decision = await hub.requests.decision(rid, replayed.agency)
        # The store binds each sealed value to its place (format 2: other ciphertext,
        # the same value), so the states are compared with their values opened.
        assert await keys.reveal(replayed.state) == await keys.reveal(decision)
        assert {v.sealed for _, v in sealed_values(replayed.state)} <= {2}
    assert history.verification.ok, history.verification.problems


PATHS: dict[str, Callable[[Hub], Awaitable[UUID]]] = {
    "consent_given": scenarios.consent_given,
    "consent_refused_not_shared": scenarios.consent_refused_not_shared,
    "refused_but_shared_with_advice": scenarios.refused_but_shared_with_advice,
    "red_consent_not_sought": scenarios.red_consent_not_sought,
    "no_legitimate_purpose": scenarios.no_legitimate_purpose,
}


@pytest.mark.parametrize("path", sorted(PATHS))
async def test_replay_equals_the_workflows_state(
    path: str, hub: Hub, infra: Infrastructure
) -> None:
    rid = await PATHS[path](hub)
    await hub.requests.result(rid)
    await assert_replay_equals_live(hub, infra, rid)


async def test_a_withdrawal_straight_after_opening_closes_the_request(
    hub: Hub, infra: Infrastructure
) -> None:
    # The update lands while the request is opening: it waits until the agencies'
    # decisions exist and the opening is recorded, then stops every one of them, and
    # the request closes as withdrawn with nothing shared.
    rid, subject = await open_request(hub, "Gus Example", ["police", "school_oak"])
    await hub.requests.withdraw(hub.coordinator, rid, "Family moved out of the area", subject)
    result = await hub.requests.result(rid)
    assert result.withdrawn and result.shared_by == [] and result.not_shared_by == []
    history = await request_history(infra.store, infra.keyring, rid, reveal=False)
    assert history.request == (await hub.requests.view(rid)).state
    assert history.request is not None and history.request.closed_at is not None
    for agency in ("police", "school_oak"):
        decision = await hub.requests.decision(rid, agency)
        assert decision.withdrawn_at is not None and decision.decision is None
    assert history.verification.ok, history.verification.problems


async def test_replay_equals_live_for_a_request_withdrawn_while_agencies_work(
    hub: Hub, infra: Infrastructure
) -> None:
    rid, subject = await open_request(hub, "Hal Example", ["police", "school_oak"])
    walk = Walk(hub, rid, subject, "police")
    await walk.until(TaskKind.ASSESS_PURPOSE)
    await walk.assess()
    await hub.requests.withdraw(hub.coordinator, rid, "Family moved out of the area", subject)
    assert (await hub.requests.result(rid)).withdrawn
    history = await request_history(infra.store, infra.keyring, rid, reveal=False)
    assert {a.agency for a in history.agencies} == {"police", "school_oak"}
    await assert_replay_equals_live(hub, infra, rid)


async def test_a_re_rating_straight_after_opening_reaches_every_agency(hub: Hub) -> None:
    rid, subject = await open_request(hub, "Ivy Example", ["police", "school_oak"])
    view = await hub.requests.change_rating(
        hub.coordinator, rid, Rating.RED, "Disclosure at school this morning", subject
    )
    for agency in ("police", "school_oak"):
        walk = Walk(hub, rid, subject, agency)
        await walk.until(TaskKind.ASSESS_PURPOSE)
        decision = await hub.requests.decision(rid, agency)
        assert decision.decision_due_at == view.state.decision_due_at
