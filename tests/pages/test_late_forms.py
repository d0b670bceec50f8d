"""A task's form sent after the session ended (the worker was away too long): nothing is
recorded, what was typed is kept for the worker (sealed under the request subject's key),
and after signing in again the worker is back on the task with it. On the real stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text

from api.sessions import SESSION_COOKIE
from domain.decision import TaskKind
from infra.db import create_engine
from tests.api.stack import Stack
from tests.conftest import TestDatabase
from tests.pages.walk import checked, csrf_of, field_value, open_request, signed_in

TYPED = "Purpose is clear: the school's concern is specific and recent"


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        yield client


async def test_a_task_form_sent_after_the_session_ended_is_kept_not_recorded(
    http: httpx.AsyncClient, stack: Stack, database: TestDatabase
) -> None:
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    engine = create_engine(database.admin_url, pool_size=1)
    try:
        async with signed_in(stack, "worker") as worker:
            page = await worker.get(f"/tasks/{task}")
            # The worker is away past the idle timeout: the session ended on the server.
            async with engine.begin() as conn:
                ended = await conn.execute(
                    text(
                        "UPDATE web_sessions SET last_seen_at = now() - interval '1 day'"
                        " WHERE user_id = :user AND ended_at IS NULL"
                    ),
                    {"user": stack.people["worker"].user_id},
                )
                assert ended.rowcount >= 1
            before = await stack.events(rid)
            late = await worker.post(
                f"/tasks/{task}",
                data={"csrf_token": csrf_of(page), "purpose_clear": "true", "note": TYPED},
                headers={"referer": f"{stack.url}/tasks/{task}"},
            )
            assert late.status_code == 303, late.text
            where = urlsplit(late.headers["location"])
            assert where.path == "/signin"
            assert parse_qs(where.query) == {"next": [f"/tasks/{task}"], "kept": ["1"]}
            assert "school" not in late.headers["location"]
            assert SESSION_COOKIE in worker.cookies  # the old, ended one: opens nothing
            assert await stack.events(rid) == before  # nothing recorded, not even a view
        async with engine.connect() as conn:
            sealed = (
                await conn.execute(
                    text("SELECT sealed::text FROM form_drafts WHERE form_key = :key"),
                    {"key": f"page:/tasks/{task}"},
                )
            ).scalar_one()
        assert "school" not in sealed
    finally:
        await engine.dispose()
    async with signed_in(stack, "worker") as again:
        back = await again.get(f"/tasks/{task}")
        assert "has been restored" in back.text
        assert field_value(back.text, "note") == TYPED
        assert checked(back.text, "purpose_clear") == {"true"}
    # Nothing was recorded: the task is still the open assessment, as it was.
    assert await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE) == task
