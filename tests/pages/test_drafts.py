"""What was typed survives signing in again: a page's form kept with ``POST /drafts`` comes
back, once, on that page for the same person, and for nobody else."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from app.drafts import Drafts
from domain.decision import TaskKind
from infra.db import create_engine
from infra.drafts import DraftStore
from tests.api.a11y import problems
from tests.api.stack import Stack
from tests.conftest import TestDatabase
from tests.pages.walk import (
    checked,
    csrf_of,
    field_value,
    open_request,
    signed_in,
    up_to_the_decision,
)

TYPED = "Concerns raised by the school <i>today</i>"


async def test_a_kept_new_request_comes_back_once_after_signing_in_again(stack: Stack) -> None:
    async with signed_in(stack, "coordinator") as page:
        form = await page.get("/requests/new")
        kept = await page.post(
            "/drafts",
            data={
                "csrf_token": csrf_of(form),
                "draft_path": "/requests/new",
                "subject_name": "Ada Example",
                "purpose": TYPED,
                "holding_agencies": [stack.holder, stack.other],
                "rating": "red",
            },
        )
        assert kept.status_code == 204, kept.text
        forged = await page.post("/drafts", data={"draft_path": "/requests/new", "purpose": "x"})
        assert forged.status_code == 403
        elsewhere = await page.post(
            "/drafts", data={"csrf_token": csrf_of(form), "draft_path": "/agencies"}
        )
        assert elsewhere.status_code == 422
    async with signed_in(stack, "coordinator") as again:  # a new session, the same person
        restored = await again.get("/requests/new")
        assert "has been restored" in restored.text
        assert field_value(restored.text, "subject_name") == "Ada Example"
        assert field_value(restored.text, "purpose") == TYPED and "<i>today" not in restored.text
        assert checked(restored.text, "holding_agencies") == {stack.holder, stack.other}
        assert checked(restored.text, "rating") == {"red"}
        assert problems(restored.text) == []
        once = await again.get("/requests/new")
        assert "has been restored" not in once.text
        assert field_value(once.text, "purpose") == ""


async def test_a_kept_task_form_is_the_typists_alone(http: httpx.AsyncClient, stack: Stack) -> None:
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    async with signed_in(stack, "worker") as worker:
        page = await worker.get(f"/tasks/{task}")
        kept = await worker.post(
            "/drafts",
            data={
                "csrf_token": csrf_of(page),
                "draft_path": f"/tasks/{task}",
                "purpose_clear": "true",
                "note": TYPED,
            },
        )
        assert kept.status_code == 204, kept.text
    async with signed_in(stack, "advisor") as advisor:  # same agency, another person
        theirs = await advisor.get(f"/tasks/{task}")
        assert TYPED not in theirs.text and "<i>" not in theirs.text
    async with signed_in(stack, "other_worker") as other:
        page = await other.get("/tasks")
        refused = await other.post(
            "/drafts",
            data={"csrf_token": csrf_of(page), "draft_path": f"/tasks/{task}", "note": "x"},
        )
        assert refused.status_code == 403
    async with signed_in(stack, "worker") as worker:
        restored = await worker.get(f"/tasks/{task}")
        assert field_value(restored.text, "note") == TYPED
        assert checked(restored.text, "purpose_clear") == {"true"}
        assert problems(restored.text) == []


async def test_the_decisions_own_pages_keep_what_was_typed_too(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await up_to_the_decision(http, stack, rid)
    kept_pages = {
        f"/tasks/{task}/items": {
            "item-0-description": "Call-out",
            "item-0-dated-day": "2",
            "item-0-dated-month": "1",
            "item-0-dated-year": "2026",
        },
        f"/tasks/{task}/decision/reasons": {"reasons": TYPED},
    }
    async with signed_in(stack, "worker") as worker:
        for path, typed in kept_pages.items():
            page = await worker.get(path)
            kept = await worker.post(
                "/drafts", data={"csrf_token": csrf_of(page), "draft_path": path, **typed}
            )
            assert kept.status_code == 204, (path, kept.text)
    async with signed_in(stack, "worker") as worker:
        items = await worker.get(f"/tasks/{task}/items")
        assert "has been restored" in items.text
        for name, value in kept_pages[f"/tasks/{task}/items"].items():
            assert field_value(items.text, name) == value, name
        assert problems(items.text) == []
        reasons = await worker.get(f"/tasks/{task}/decision/reasons")
        assert field_value(reasons.text, "reasons") == TYPED


async def test_a_draft_past_its_age_is_not_offered_and_goes_at_the_next_save(
    stack: Stack, database: TestDatabase
) -> None:
    user = stack.people["coordinator"].user_id
    engine = create_engine(database.admin_url, pool_size=1)
    store = DraftStore(engine)
    drafts = Drafts(store, stack.requests.keyring)
    try:
        await drafts.save(user, "page:/old", None, {"purpose": TYPED})
        assert await drafts.load(user, "page:/old") == {"purpose": TYPED}
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE form_drafts SET updated_at = now() - interval '15 days'"
                    " WHERE user_id = :u AND form_key = 'page:/old'"
                ),
                {"u": user},
            )
        assert await drafts.load(user, "page:/old") == {}
        await drafts.save(user, "page:/new", None, {"purpose": "x"})
        async with engine.connect() as conn:
            keys = (
                (
                    await conn.execute(
                        text("SELECT form_key FROM form_drafts WHERE user_id = :u"), {"u": user}
                    )
                )
                .scalars()
                .all()
            )
        assert "page:/old" not in keys and "page:/new" in keys
        await drafts.drop(user, "page:/new")
    finally:
        await engine.dispose()


async def test_a_question_page_of_the_assessment_keeps_what_was_typed(
    http: httpx.AsyncClient, stack: Stack
) -> None:
    rid = await open_request(http, stack)
    task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)
    path = f"/tasks/{task}/purpose/notes"
    async with signed_in(stack, "worker") as worker:
        page = await worker.get(path)
        kept = await worker.post(
            "/drafts", data={"csrf_token": csrf_of(page), "draft_path": path, "note": TYPED}
        )
        assert kept.status_code == 204, kept.text
    async with signed_in(stack, "worker") as worker:  # signed in again
        restored = await worker.get(path)
        assert field_value(restored.text, "note") == TYPED and "<i>today" not in restored.text
        assert problems(restored.text) == []
        once = await worker.get(path)
        assert field_value(once.text, "note") == ""
