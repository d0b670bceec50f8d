"""Nothing typed is lost when a session ends: a form sent too late is kept (sealed, for
its own person only) instead of being acted on, and comes back filled in once they sign
in again; the timeout warning's "Stay signed in" extends the session, and when its time
runs out the form being typed in is kept. Over real HTTP against real PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from api.sessions import SESSION_COOKIE
from domain.vocabulary import Role
from infra.settings import Settings
from tests.api.conftest import Registered
from tests.api.support import patient, serving
from tests.api.test_pages import csrf_of, sign_in
from tests.cli.people import person

IDLE_S = 2
NAME = "Alex Keptdraft"
FORM = {
    "subject_name": NAME,
    "subject_dob-day": "1",
    "subject_dob-month": "4",
    "subject_dob-year": "2012",
    "subject_kind": "child",
    "purpose": "Concern raised by the school about bruising",
    "information_sought": "Any recent contact",
    "rating": "red",
}


@pytest.fixture(scope="module")
async def site(settings: Settings, engine: AsyncEngine, temporal: Client) -> AsyncIterator[str]:
    own = patient(settings).with_overrides(session_idle_timeout_s=IDLE_S)
    async with serving(create_app(own, engine=engine, temporal=temporal)) as url:
        yield url


def browser(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, headers={"accept": "text/html"}, timeout=10)


async def count(engine: AsyncEngine, sql: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def lapse_with_a_post(b: httpx.AsyncClient, token: str, **more: str) -> httpx.Response:
    """Sign in, open the new-request form, wait past the idle timeout, then send it."""
    assert (await sign_in(b, token)).status_code == 303
    form = await b.get("/requests/new")
    assert form.status_code == 200
    await asyncio.sleep(IDLE_S + 0.5)
    return await b.post("/requests/new", data=FORM | more | {"csrf_token": csrf_of(form)})


async def test_a_form_sent_after_the_session_ended_comes_back_after_signing_in(
    site: str, hub: Registered, engine: AsyncEngine
) -> None:
    opened = "SELECT count(*) FROM events WHERE event_type = 'request.opened'"
    before = await count(engine, opened)
    coordinator = hub.people[Role.COORDINATOR].token
    async with browser(site) as b:
        late = await lapse_with_a_post(b, coordinator, holding_agencies=hub.police)
        assert late.status_code == 303
        assert late.headers["location"] == "/signin?next=%2Frequests%2Fnew&kept=1"
        signin = await b.get(late.headers["location"])
        assert "You were signed out, so your answers were not sent" in signin.text
        assert '<input type="hidden" name="next" value="/requests/new">' in signin.text
        wrong = await b.post(
            "/signin",
            data={"token": "mf_wrong", "csrf_token": csrf_of(signin), "next": "/requests/new"}
            | {"kept": "1"},
        )
        assert wrong.status_code == 401  # a mistyped token: still told the form is kept
        assert "your answers were not sent" in wrong.text
        back = await b.post(
            "/signin",
            data={"token": coordinator, "csrf_token": csrf_of(signin), "next": "/requests/new"},
        )
        assert back.status_code == 303 and back.headers["location"] == "/requests/new"
        page = await b.get("/requests/new")
        assert f'value="{NAME}"' in page.text and 'value="2012"' in page.text
        assert "has been restored" in page.text
        ticked = re.findall(
            r'name="holding_agencies" type="checkbox" value="([^"]+)" checked', page.text
        )
        assert ticked == [hub.police]  # one box ticked comes back ticked, and only it
        again = await b.get("/requests/new")  # given back once
        assert NAME not in again.text and "has been restored" not in again.text
    assert await count(engine, opened) == before  # the late form was not acted on


async def test_a_kept_form_is_sealed_and_goes_back_only_to_its_own_person(
    site: str, engine: AsyncEngine
) -> None:
    owner = await person(engine, Role.COORDINATOR)
    other = await person(engine, Role.COORDINATOR)
    async with browser(site) as b:
        late = await lapse_with_a_post(b, owner.token)
        assert late.headers["location"].endswith("kept=1")
        async with engine.connect() as conn:
            sealed = (
                await conn.execute(
                    text("SELECT sealed::text FROM form_drafts WHERE user_id = :u"),
                    {"u": owner.user.id},
                )
            ).scalar_one()
        assert NAME not in sealed and "bruising" not in sealed
        b.cookies.clear()
        assert (await sign_in(b, other.token)).headers["location"] == "/"  # no draft of theirs
        assert NAME not in (await b.get("/requests/new")).text
        b.cookies.clear()
        assert (await sign_in(b, owner.token)).status_code == 303
        assert f'value="{NAME}"' in (await b.get("/requests/new")).text


async def test_a_late_form_with_a_made_up_session_or_token_keeps_nothing(
    site: str, engine: AsyncEngine
) -> None:
    owner = await person(engine, Role.COORDINATOR)
    kept = f"SELECT count(*) FROM form_drafts WHERE user_id = '{owner.user.id}'"
    async with browser(site) as b:
        assert (await sign_in(b, owner.token)).status_code == 303
        csrf = csrf_of(await b.get("/requests/new"))
        await asyncio.sleep(IDLE_S + 0.5)
        forged = await b.post("/requests/new", data=FORM | {"csrf_token": "not-the-sessions"})
        assert forged.status_code == 403
        # A form whose page cannot give values back: nothing kept, but back to that page.
        page = f"/requests/{uuid.uuid4()}"
        other = await b.post(
            f"{page}/withdraw",
            data={"reason": "typed", "csrf_token": csrf},
            headers={"referer": f"{site}{page}"},
        )
        assert other.status_code == 303
        assert other.headers["location"] == "/signin?" + urlencode({"next": page, "ended": 1})
        told = await b.get(other.headers["location"])
        assert "You have been signed out because you had not done anything" in told.text
        assert "your answers were not sent" not in told.text  # nothing was kept
        b.cookies.set(SESSION_COOKIE, "made-up-cookie")
        made_up = await b.post("/requests/new", data=FORM | {"csrf_token": "whatever"})
        assert made_up.status_code == 403
    assert await count(engine, kept) == 0


async def test_stay_signed_in_extends_an_idle_session(site: str, engine: AsyncEngine) -> None:
    owner = await person(engine, Role.COORDINATOR)
    async with browser(site) as b:
        assert (await sign_in(b, owner.token)).status_code == 303
        home = await b.get("/")
        assert f'data-idle-s="{IDLE_S}"' in home.text and 'data-warn-s="1"' in home.text
        assert '<dialog id="timeout-warning"' in home.text
        assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", home.text))
        csrf = csrf_of(home)
        json = {"accept": "application/json"}
        refused = await b.post("/session/extend", data={"csrf_token": "wrong"}, headers=json)
        assert refused.status_code == 403
        for _ in range(3):  # only "Stay signed in" keeps it going: 4.5 s, no page opened
            await asyncio.sleep(IDLE_S * 0.75)
            stay = await b.post("/session/extend", data={"csrf_token": csrf}, headers=json)
            assert stay.status_code == 200, stay.text
            assert stay.json()["signed_in"] is True and stay.json()["idle_s"] == IDLE_S
        await asyncio.sleep(IDLE_S + 0.5)
        late = await b.post("/session/extend", data={"csrf_token": csrf}, headers=json)
        assert late.status_code == 303 and late.headers["location"] == "/signin?ended=1"


async def test_the_warning_keeps_the_form_being_typed_when_time_runs_out(
    site: str, engine: AsyncEngine
) -> None:
    """What the warning's script sends when its time is up: the form, to POST /drafts."""
    owner = await person(engine, Role.COORDINATOR)
    page = {"referer": f"{site}/requests/new"}  # as the browser's fetch sends it
    async with browser(site) as b:
        assert (await sign_in(b, owner.token)).status_code == 303
        csrf = csrf_of(await b.get("/requests/new"))
        where = {"draft_path": "/requests/new"}
        alive = await b.post("/drafts", data=FORM | where | {"csrf_token": csrf}, headers=page)
        assert alive.status_code == 204  # another tab kept the session going: kept, stay
        assert f'value="{NAME}"' in (await b.get("/requests/new")).text
        await asyncio.sleep(IDLE_S + 0.5)
        wrong = await b.post("/drafts", data=FORM | where | {"csrf_token": "x"}, headers=page)
        assert wrong.status_code == 403
        late = await b.post("/drafts", data=FORM | where | {"csrf_token": csrf}, headers=page)
        assert late.status_code == 303
        assert late.headers["location"] == "/signin?next=%2Frequests%2Fnew&kept=1"
        b.cookies.clear()
        back = await sign_in(b, owner.token)
        assert back.status_code == 303
        restored = await b.get("/requests/new")
        assert f'value="{NAME}"' in restored.text and "has been restored" in restored.text
