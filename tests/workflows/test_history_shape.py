"""The shape of a request's histories: what each step costs the Temporal server.

A one-agency request that shares with consent, walked to its end: the store's writes
(appending events, notifications) are ordinary activities whose arguments the history
keeps (``workflows.common.QUEUED_WRITES``: a retried write sends the same bytes), none
a local activity; and the decision starts a timer only when its next escalation point
moves, never again for the same instant.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from temporalio.api.history.v1 import HistoryEvent

from app import scenarios
from app.requests import RequestService
from app.scenario_builder import Hub
from workflows.common import agency_workflow_id, request_workflow_id


def fire_at(event: HistoryEvent) -> datetime:
    timeout = event.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
    started: datetime = event.event_time.ToDatetime()
    return started + timeout


async def test_a_shared_request_records_its_writes_and_times_each_point_once(
    hub: Hub, service: RequestService
) -> None:
    rid = await scenarios.consent_given(hub, "Ida Lean-Example")
    await service.result(rid)
    decision = await service.client.get_workflow_handle(
        agency_workflow_id(rid, "police")
    ).fetch_history()
    request = await service.client.get_workflow_handle(request_workflow_id(rid)).fetch_history()

    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for h in (decision, request)
        for e in h.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert "send_package" in scheduled
    assert scheduled.count("append_events") >= 8  # every append of the walk, recorded
    local = [
        e
        for h in (decision, request)
        for e in h.events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    assert local == []

    timers = [e for e in decision.events if e.HasField("timer_started_event_attributes")]
    instants = [fire_at(t) for t in timers]
    # Fire instants are whole milliseconds apart at least when the point moved; a timer
    # restarted for the same point would fire at the same instant (within the clock's
    # rounding) as the one it replaced.
    for earlier, later in itertools.pairwise(instants):
        assert abs(later - earlier) > timedelta(seconds=1), instants
    assert len(timers) <= 5, instants
