"""A canary name put into a request never appears in clear outside its own ciphertext.

Checked where DESIGN.md says personal data must never be: Temporal histories (as
the server stores them, and even after the payload codec is undone: only sealed
values travel), workflow ids, logs, and every table of the database.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import WorkflowSerializationContext

from app import scenarios
from app.container import Infrastructure
from app.history import request_history
from app.scenario_builder import Hub
from infra.codec import EncryptionCodec
from tests.conftest import TestDatabase
from workflows.common import agency_workflow_id, request_workflow_id


async def _payload_texts(hub: Hub, workflow_id: str) -> tuple[str, str]:
    """The history as stored (JSON), and every payload in it decoded by the codec."""
    client = hub.requests.client
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    stored = history.to_json()
    codec = client.data_converter.payload_codec
    assert isinstance(codec, EncryptionCodec)
    decoded: list[str] = []
    for event in history.events:
        for field in event.ListFields():
            attrs = field[1]
            # Each payload is bound to the workflow it belongs to: a child's input and
            # result to the child, everything else to this workflow.
            child = getattr(attrs, "workflow_id", "") or getattr(
                getattr(attrs, "workflow_execution", None), "workflow_id", ""
            )
            bound = codec.with_context(
                WorkflowSerializationContext(namespace="default", workflow_id=child or workflow_id)
            )
            for name in ("input", "result", "details", "last_completion_result"):
                payloads = getattr(getattr(attrs, name, None), "payloads", None)
                if payloads:
                    plain: list[Payload] = await bound.decode(list(payloads))
                    decoded.extend(p.data.decode(errors="replace") for p in plain)
    return stored, "\n".join(decoded)


async def _all_tables_text(database: TestDatabase) -> str:
    conn = await asyncpg.connect(database.admin_url)
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        texts: list[str] = []
        for row in tables:
            rows = await conn.fetch(f'SELECT t::text AS x FROM "{row["tablename"]}" t')
            texts.extend(r["x"] for r in rows)
        return "\n".join(texts)
    finally:
        await conn.close()


async def test_a_canary_name_never_appears_in_clear(
    hub: Hub, database: TestDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    canary = f"Zebedee Canaryfield {uuid.uuid4().hex[:8]}"
    request_id = await scenarios.consent_given(hub, name=canary)
    await hub.requests.result(request_id)

    assert await hub.packages.packages.list_for_request(request_id), "a package was delivered"
    workflow_ids = [request_workflow_id(request_id), agency_workflow_id(request_id, "police")]
    for workflow_id in workflow_ids:
        assert canary not in workflow_id
        stored, decoded = await _payload_texts(hub, workflow_id)
        assert canary not in stored
        assert "Canaryfield" not in decoded, "only sealed ciphertext may travel through Temporal"
        assert '"ct"' in decoded  # the sealed values are there, as ciphertext

    assert "Canaryfield" not in await _all_tables_text(database)

    captured = capsys.readouterr()
    assert "Canaryfield" not in captured.out and "Canaryfield" not in captured.err


async def test_the_canary_opens_for_someone_entitled(hub: Hub, infra: Infrastructure) -> None:
    """The negative checks above mean something only if the name is really in the record."""
    canary = f"Yolanda Canaryfield {uuid.uuid4().hex[:8]}"
    request_id = await scenarios.consent_given(hub, name=canary)
    history = await request_history(infra.store, infra.keyring, request_id, reveal=True)
    assert history.request_details is not None
    assert canary in str(history.request_details["subject_details"])
