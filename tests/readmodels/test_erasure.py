"""Disposal reaches the read models: the sealed values go, the decision trail stays.

A real request history (the pure handlers' events, sealed for real) is projected;
then the disposal is recorded as the retention workflow records it
(``RecordDisposed`` and ``SubjectErased`` in ``retention:{id}``), the subject's key
is destroyed, and the projection catches up. Every ciphertext the events carried
is looked for in the read-model rows, and a rebuild must give the same rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import text

from app.container import Infrastructure
from domain.events import DeadlineMissed, EventMetadata, RecordDisposed, SubjectErased
from domain.vocabulary import DeadlineKind, DisposalReason, RecordType, Role
from infra.eventstore import ANY_VERSION, NewEvent
from infra.readmodels import forget_request, rebuild, snapshot
from tests.compliance.build import Built, shared_path
from tests.readmodels.settle import settled
from workflows.retention import retention_stream

OFFICER = "u-compliance-1"


def ciphertexts(value: Any) -> set[str]:
    """Every sealed value's ciphertext inside a JSON-ready value."""
    if isinstance(value, dict):
        if value.get("sealed") in (1, 2) and "ct" in value:
            return {str(value["ct"])}
        return {ct for v in value.values() for ct in ciphertexts(v)}
    if isinstance(value, list):
        return {ct for v in value for ct in ciphertexts(v)}
    return set()


async def rows_text(infra: Infrastructure, request_id: UUID) -> str:
    """The text of every read-model row of the request, as PostgreSQL prints it."""
    texts: list[str] = []
    async with infra.engine.connect() as conn:
        for table in ("rm_requests", "rm_agency_decisions", "rm_tasks"):
            rows = await conn.execute(
                text(f"SELECT t::text FROM {table} t WHERE request_id = :r"),
                {"r": request_id},
            )
            texts.extend(r[0] for r in rows)
    return "\n".join(texts)


async def decision_row(infra: Infrastructure, request_id: UUID) -> dict[str, Any]:
    async with infra.engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    text(
                        "SELECT d.status, d.outcome, d.decided_at, r.erased, r.status AS req, "
                        "CAST(d.state AS text) AS state FROM rm_agency_decisions d "
                        "JOIN rm_requests r USING (request_id) WHERE request_id = :r"
                    ),
                    {"r": request_id},
                )
            )
            .mappings()
            .one()
        )
    return dict(row) | {"state": json.loads(row["state"])}


async def record_disposal(infra: Infrastructure, built: Built) -> None:
    """As ``RetentionReviewWorkflow.dispose`` does: the decision on the record first."""
    now = datetime.now(UTC)
    review_id = uuid4()
    events = [
        RecordDisposed(
            request_id=built.request_id,
            review_id=review_id,
            record_type=RecordType.SHARED_DECISION,
            reason=DisposalReason.RETENTION_PERIOD_ENDED,
            disposed_by=OFFICER,
            disposed_at=now,
        ),
        SubjectErased(
            request_id=built.request_id,
            subject_id=built.subject_id,
            reason=DisposalReason.RETENTION_PERIOD_ENDED,
            erased_by=OFFICER,
            erased_at=now,
        ),
    ]
    meta = EventMetadata(
        actor_id=OFFICER,
        actor_role=Role.COMPLIANCE_OFFICER.value,
        correlation_id=built.request_id,
    )
    await infra.store.append(
        retention_stream(built.request_id),
        ANY_VERSION,
        [NewEvent(uuid4(), e, meta) for e in events],
    )


async def sealed_in(infra: Infrastructure, built: Built) -> set[str]:
    """The ciphertexts as the store holds them (bound to their places, not as appended)."""
    stored = await infra.store.read_correlation(built.request_id)
    return {ct for r in stored for ct in ciphertexts(r.event.model_dump(mode="json"))}


async def test_disposal_erases_the_sealed_values_and_keeps_who_decided_what(
    infra: Infrastructure,
) -> None:
    built = await shared_path(infra.store, infra.keyring)
    rid = built.request_id
    sealed = await sealed_in(infra, built)
    await settled(infra, rid)
    before = await rows_text(infra, rid)
    assert any(ct in before for ct in sealed), "the live rows hold the sealed values"
    assert (await decision_row(infra, rid))["erased"] is False

    await record_disposal(infra, built)
    await infra.store.erase_subject(built.subject_id)
    queries = await settled(infra, rid)

    after = await rows_text(infra, rid)
    assert not [ct for ct in sealed if ct in after]
    assert '"sealed"' not in after and '"ct"' not in after
    row = await decision_row(infra, rid)
    assert row["erased"] is True
    assert (row["status"], row["outcome"], row["req"]) == ("completed", "share", "closed")
    decision = row["state"]["decision"]
    assert (decision["decided_by"], decision["decided_by_role"]) == (
        "u-worker",
        "agency_worker",
    )
    assert decision["lawful_basis"]["art6"] == "public_task"
    assert decision["consent"]["outcome"] == "given"
    assert decision["reasons"] == {"erased": True}
    assert decision["items"][0]["kind"] == "fact"
    assert decision["items"][0]["content"] == {"erased": True}
    assert row["state"]["package"]["acknowledged_at"] is not None
    found = await queries.get_request(rid)
    assert found is not None and found.status == "closed"
    assert [(a.agency, a.outcome) for a in found.agencies] == [("health", "share")]

    live = await snapshot(infra.engine)
    await rebuild(infra.store)
    rebuilt = await snapshot(infra.engine)
    for table in live:
        assert [dict(r) for r in rebuilt[table] if r["request_id"] == rid] == [
            dict(r) for r in live[table] if r["request_id"] == rid
        ]
    assert not [ct for ct in sealed if ct in await rows_text(infra, rid)]


async def test_rows_erased_by_the_disposal_first_end_as_the_projection_leaves_them(
    infra: Infrastructure,
) -> None:
    """The disposal's own clean-up can run before the projection reaches SubjectErased."""
    built = await shared_path(infra.store, infra.keyring)
    rid = built.request_id
    await settled(infra, rid)
    await record_disposal(infra, built)
    await infra.store.erase_subject(built.subject_id)
    async with infra.engine.begin() as conn:  # what the forget_read_models activity runs
        await forget_request(conn, rid)
    first = await snapshot(infra.engine)
    assert not [ct for ct in await sealed_in(infra, built) if ct in await rows_text(infra, rid)]
    await settled(infra, rid)  # now the projection meets SubjectErased: nothing changes
    settled_rows = await snapshot(infra.engine)
    await rebuild(infra.store)
    rebuilt = await snapshot(infra.engine)
    for table in first:
        mine = [dict(r) for r in first[table] if r["request_id"] == rid]
        assert mine == [dict(r) for r in settled_rows[table] if r["request_id"] == rid]
        assert mine == [dict(r) for r in rebuilt[table] if r["request_id"] == rid]
    assert (await decision_row(infra, rid))["erased"] is True


async def test_an_erased_request_takes_no_more_events(infra: Infrastructure) -> None:
    built = await shared_path(infra.store, infra.keyring)
    rid = built.request_id
    await record_disposal(infra, built)
    await infra.store.erase_subject(built.subject_id)
    await settled(infra, rid)
    erased = await snapshot(infra.engine)
    now = datetime.now(UTC)
    late = DeadlineMissed(
        request_id=rid, agency="health", kind=DeadlineKind.DECISION, due_at=now, missed_at=now
    )
    await infra.store.append(
        f"request:{rid}:agency:health",
        ANY_VERSION,
        [NewEvent(uuid4(), late, EventMetadata(correlation_id=rid))],
    )
    await settled(infra, rid)
    again = await snapshot(infra.engine)
    for table in erased:
        assert [dict(r) for r in again[table] if r["request_id"] == rid] == [
            dict(r) for r in erased[table] if r["request_id"] == rid
        ]
    assert (await decision_row(infra, rid))["state"]["missed"] == []
