"""Replaying real request histories from the real store: state, as-of, reveal, erasure, export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from app.export import export_request
from app.history import RequestNotFound, request_history
from app.summaries import summarise
from domain.decision import fold, start
from domain.events import RequestOpened
from domain.policy import RetentionPolicy
from domain.request import AgencyStatus, fold_request, start_request
from domain.retention import records_due
from domain.vocabulary import Outcome, RecordType
from infra.crypto import Keyring
from infra.eventstore import EventStore
from tests.compliance.build import DOB, NAME, REASONS, not_shared_path, shared_path

ZONE = "Europe/London"


async def test_replay_of_a_shared_request_equals_the_workflows_fold(
    store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    history = await request_history(store, keyring, built.request_id, reveal=False)
    opened = built.events[0]
    assert isinstance(opened, RequestOpened)
    # The store binds each sealed value to its place (other ciphertext, the same value):
    # the states are compared with their values opened.
    keys = keyring.session()
    folded = fold_request(start_request(opened), built.events)
    assert await keys.reveal(history.request) == await keys.reveal(folded)
    (health,) = history.agencies
    live = fold(start(opened, "health"), built.events)
    assert await keys.reveal(health.state) == await keys.reveal(live)
    assert history.request is not None and history.request.closed_at is not None
    assert history.request.progress("health").outcome is Outcome.SHARE
    assert history.events[0].event_type == "request.opened"
    assert len(history.events) == len(built.events)
    assert health.decision_record is not None
    assert health.decision_record["outcome"] == "share"
    assert health.decision_record["reasons"] == "[sealed]"
    assert history.verification.ok, history.verification.problems
    assert {s.stream_id for s in history.verification.streams} == {
        f"request:{built.request_id}",
        f"request:{built.request_id}:agency:health",
    }
    decided = next(e for e in history.events if e.event_type == "decision.recorded")
    assert decided.actor_id == "u-worker" and decided.actor_role == "agency_worker"
    assert "decided to share 1 item(s) with police" in decided.summary


async def test_as_of_shows_what_was_known_before_the_decision(
    store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    assert built.before_decision is not None
    earlier = await request_history(
        store, keyring, built.request_id, as_of=built.before_decision, reveal=False
    )
    assert earlier.request is not None
    assert earlier.request.progress("health").status is AgencyStatus.AWAITING_DECISION
    assert earlier.request.closed_at is None
    assert earlier.agencies[0].state.decision is None
    assert earlier.agencies[0].decision_record is None
    assert all(e.recorded_at <= built.before_decision for e in earlier.events)


async def test_reveal_opens_the_personal_data_and_erasure_leaves_the_trail_verifiable(
    store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    revealed = await request_history(store, keyring, built.request_id, reveal=True)
    assert revealed.request_details is not None
    assert revealed.request_details["subject_details"] == {"name": NAME, "dob": DOB}
    record = revealed.agencies[0].decision_record
    assert record is not None and record["reasons"] == REASONS

    await store.erase_subject(built.subject_id)
    after = await request_history(store, keyring, built.request_id, reveal=True)
    assert after.request_details is not None
    assert after.request_details["subject_details"] == "[erased]"
    record = after.agencies[0].decision_record
    assert record is not None
    assert record["reasons"] == "[erased]" and record["items"][0]["content"] == "[erased]"
    assert record["outcome"] == "share" and record["decided_by"] == "u-worker"
    assert record["lawful_basis"]["art6"] == "public_task"
    assert after.verification.ok
    assert NAME not in json.dumps(after.model_dump(mode="json"))
    report = await store.verify()
    assert report.ok, report.findings


async def test_a_not_shared_request_replays_and_comes_up_for_review_years_later(
    store: EventStore, keyring: Keyring
) -> None:
    built = await not_shared_path(store, keyring)
    history = await request_history(store, keyring, built.request_id, reveal=False)
    assert history.request is not None
    assert history.request.progress("health").outcome is Outcome.NOT_SHARE
    record = history.agencies[0].decision_record
    assert record is not None and record["not_share_reasons"] == ["information_not_held"]
    policy = RetentionPolicy()
    today = history.request.opened_at.date()
    assert records_due(built.events, today, policy) == []
    years_on = today.replace(year=today.year + 7)
    (due,) = records_due(built.events, years_on, policy)
    assert due.record_type is RecordType.NOT_SHARED_DECISION and due.anchor_estimated


async def test_exports_parse_and_hold_the_decision_record(
    store: EventStore, keyring: Keyring
) -> None:
    built = await shared_path(store, keyring)
    history = await request_history(store, keyring, built.request_id, reveal=False)
    as_json = json.loads(export_request(history, "json", zone=ZONE))
    assert as_json["request_id"] == str(built.request_id)
    assert as_json["agencies"][0]["decision_record"]["outcome"] == "share"
    rows = list(csv.DictReader(io.StringIO(export_request(history, "csv", zone=ZONE))))
    assert sum(r["section"] == "event" for r in rows) == len(built.events)
    decision = {r["field"]: r["value"] for r in rows if r["section"] == "decision"}
    assert decision["Decision"] == "share"
    assert decision["Lawful basis (UK GDPR Article 6)"] == "public task"
    assert decision["Reasons"] == "[sealed]"
    assert not any("." in field or "_" in field for field in decision)  # words, no paths
    assert {r["field"] for r in rows if r["section"] == "verification"} == {"Integrity verified"}
    page = export_request(history, "html", zone=ZONE)
    assert str(built.request_id) in page and "<dt>Decision</dt><dd>share</dd>" in page
    assert "&#34;outcome&#34;" not in page  # the record in words, never raw JSON
    assert NAME not in page


# The clocks go back at 01:00 UTC on 25 October 2026: 01:30 BST, then 01:30 GMT an hour later.
BEFORE_CHANGE = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
AFTER_CHANGE = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
OPENED = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)


async def test_exports_show_the_hubs_clock_across_the_change_to_gmt(
    store: EventStore, keyring: Keyring
) -> None:
    """A history recorded either side of the clocks going back: the printable export and the
    CSV's column for people show each time on the hub's clock with its zone (the repeated
    hour told apart), the CSV's ISO column and the JSON keep UTC with its offset."""
    built = await shared_path(store, keyring, opened_at=OPENED)
    found = await request_history(store, keyring, built.request_id, reveal=False)
    times = [BEFORE_CHANGE, AFTER_CHANGE] + [AFTER_CHANGE + timedelta(days=40)] * (
        len(found.events) - 2
    )
    history = found.model_copy(
        update={
            "events": [
                e.model_copy(update={"recorded_at": t})
                for e, t in zip(found.events, times, strict=True)
            ]
        }
    )
    page = export_request(history, "html", zone=ZONE)
    assert "<td>25 Oct 2026, 01:30:00 BST</td>" in page
    assert "<td>25 Oct 2026, 01:30:00 GMT</td>" in page
    assert "<td>4 Dec 2026, 01:30:00 GMT</td>" in page
    assert "opened 25 Oct 2026, 00:30 BST" in page  # 23:30 UTC the day before
    assert "<dt>Decided at</dt><dd>25 Oct 2026, 00:30 BST</dd>" in page
    assert "UTC" not in page
    rows = list(csv.DictReader(io.StringIO(export_request(history, "csv", zone=ZONE))))
    events = [r for r in rows if r["section"] == "event"]
    assert [r["recorded_local"] for r in events[:2]] == [
        "2026-10-25 01:30:00 BST",
        "2026-10-25 01:30:00 GMT",
    ]
    assert [datetime.fromisoformat(r["recorded_at"]) for r in events[:2]] == times[:2]
    decision = {r["field"]: r["value"] for r in rows if r["section"] == "decision"}
    assert decision["Decided at"] == "25 Oct 2026, 00:30 BST"
    as_json = json.loads(export_request(history, "json", zone=ZONE))
    assert datetime.fromisoformat(as_json["events"][0]["recorded_at"]) == BEFORE_CHANGE
    assert as_json["request"]["opened_at"].endswith(("Z", "+00:00"))
    # Another hub's clock: the same instants in its own zone.
    assert "<td>24 Oct 2026, 20:30:00 EDT</td>" in export_request(
        history, "html", zone="America/New_York"
    )


async def test_an_unknown_request_is_not_found(store: EventStore, keyring: Keyring) -> None:
    with pytest.raises(RequestNotFound):
        await request_history(store, keyring, uuid4(), reveal=False)


def test_every_summary_is_built_without_sealed_values() -> None:
    from tests.domain.make import opened

    line = summarise(opened())
    assert "police" in line and "amber" in line and "Sealed" not in line
