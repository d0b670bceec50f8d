"""Signing in to the pages through an identity provider: the authorisation-code flow with
PKCE (S256), against a real OIDC provider (tests/oidc_provider.py) over real HTTP.

Each attack is run for real: a stolen code redeemed with another sign-in's verifier, a
replayed or foreign state, an ID token carrying another nonce; each is refused with a
page that says so, and no session is started.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client as TemporalClient

from api.app import create_app
from api.routes.oidc_signin import SIGNOUT_COOKIE, STATE_COOKIE
from api.sessions import SESSION_COOKIE
from domain.vocabulary import Role
from infra.settings import ConfigurationError, Settings, load_settings
from infra.stack import free_port
from infra.users import UserDirectory
from tests.api.conftest import Registered
from tests.api.support import patient, serving
from tests.api.test_pages import csrf_of, sign_in
from tests.oidc_provider import Client, Provider, User, running

CLIENT_ID = "mashflow-pages"
SECRET = "test-client-secret-9f3a1c"


@dataclass(frozen=True)
class Site:
    url: str
    idp: Provider
    app: FastAPI


@pytest.fixture(scope="module")
async def site(
    settings: Settings, engine: AsyncEngine, temporal: TemporalClient
) -> AsyncIterator[Site]:
    async with serve_site(Provider(), settings, engine, temporal) as found:
        yield found


@contextlib.asynccontextmanager
async def serve_site(
    provider: Provider, settings: Settings, engine: AsyncEngine, temporal: TemporalClient
) -> AsyncIterator[Site]:
    """The pages signing in through ``provider`` (served too), registered there as a client
    with its callback and its signed-out page."""
    async with running(provider) as idp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        idp.clients[CLIENT_ID] = Client(
            CLIENT_ID,
            f"{url}/signin/oidc/callback",
            SECRET,
            post_logout_redirect_uris=(f"{url}/signed-out",),
        )
        sso = patient(settings).with_overrides(
            public_url=url,
            oidc_issuer=idp.issuer,
            oidc_audience="mashflow-api",
            oidc_jwks_url=f"{idp.issuer}/jwks",
            oidc_role_claim="groups",
            oidc_agency_claim="agency",
            oidc_group_roles={"police-safeguarding": "agency_worker", "hub": "coordinator"},
            oidc_hub_subjects={"coordinator": ("coord-1",)},
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=SecretStr(SECRET),
            oidc_provider_name="Test IdP",
        )
        app = create_app(sso, engine=engine, temporal=temporal)
        async with serving(app, port):
            yield Site(url, idp, app)


def browser(site: Site, *, follow: bool = True) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=site.url, headers={"accept": "text/html"}, follow_redirects=follow, timeout=10
    )


def worker(sub: str, hub: Registered) -> User:
    return User(
        sub,
        {"name": f"Pat {sub}", "groups": ["staff", "police-safeguarding"], "agency": hub.police},
    )


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def sessions_of(engine: AsyncEngine, sub: str) -> int:
    async with engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM web_sessions s JOIN users u ON u.id = s.user_id"
                        " WHERE u.oidc_subject LIKE :sub"
                    ),
                    {"sub": f"%#{sub}"},
                )
            ).scalar_one()
        )


async def to_callback(b: httpx.AsyncClient, next_page: str = "") -> str:
    """Start a sign-in and sign in at the provider; the callback URL it sends the browser to."""
    start = await b.get("/signin/oidc", params={"next": next_page} if next_page else None)
    assert start.status_code == 303, start.text
    at_provider = await b.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    return str(at_provider.headers["location"])


async def test_the_whole_redirect_dance_signs_a_person_in_and_returns_them(
    site: Site, hub: Registered, engine: AsyncEngine
) -> None:
    site.idp.user = worker("worker-1", hub)
    async with browser(site) as b:
        asked = await b.get("/tasks")  # signed out: to the sign-in page, remembering /tasks
        assert asked.url.path == "/signin" and query(str(asked.url)) == {"next": "/tasks"}
        link = re.search(r'href="(/signin/oidc[^"]*)"[^>]*>\s*Sign in with Test IdP', asked.text)
        assert link, asked.text
        landed = await b.get(link.group(1).replace("&amp;", "&"))
        assert landed.status_code == 200, landed.text
        assert landed.url.path == "/tasks" and "Pat worker-1" in landed.text
        hops = [r.url for r in landed.history]
        assert [u.path for u in hops] == ["/signin/oidc", "/authorize", "/signin/oidc/callback"]
        authorize = query(str(hops[1]))
        assert authorize["code_challenge_method"] == "S256"
        assert len(authorize["code_challenge"]) == 43 and authorize["nonce"]
        assert authorize["redirect_uri"] == f"{site.url}/signin/oidc/callback"
        assert "code_verifier" not in str(hops[1])  # the verifier never leaves the server
        assert b.cookies.get(SESSION_COOKIE) and not b.cookies.get(STATE_COOKIE)
    assert await sessions_of(engine, "worker-1") == 1


async def test_a_stolen_code_with_another_sign_ins_verifier_is_refused(
    site: Site, hub: Registered, engine: AsyncEngine
) -> None:
    """PKCE: a code intercepted on its way back (a leaked redirect) is worthless in another
    browser, whose own sign-in has its own code verifier: the provider refuses it."""
    site.idp.user = worker("victim-1", hub)
    async with browser(site, follow=False) as victim, browser(site, follow=False) as thief:
        stolen = query(await to_callback(victim))["code"]
        own = await thief.get("/signin/oidc")
        state = query(own.headers["location"])["state"]
        refused = await thief.get("/signin/oidc/callback", params={"state": state, "code": stolen})
        assert refused.status_code == 401, refused.text
        assert "did not accept this sign-in" in refused.text
        assert site.idp.refusals[-1] == "invalid_grant: code_verifier does not match"
        assert SESSION_COOKIE not in thief.cookies
    assert await sessions_of(engine, "victim-1") == 0


async def test_a_replayed_or_foreign_state_is_refused(
    site: Site, hub: Registered, engine: AsyncEngine
) -> None:
    site.idp.user = worker("worker-2", hub)
    async with browser(site, follow=False) as b:
        callback = await to_callback(b)
        state = b.cookies.get(STATE_COOKIE)
        done = await b.get(callback)
        assert done.status_code == 303 and done.headers["location"] == "/"
        b.cookies.set(STATE_COOKIE, state or "")  # the browser (or a thief) tries it again
        again = await b.get(callback)
        assert again.status_code == 400 and "This sign-in has expired" in again.text
    assert await sessions_of(engine, "worker-2") == 1
    # Login CSRF: a sign-in someone else started, sent to a browser that did not start it.
    async with browser(site, follow=False) as planter, browser(site, follow=False) as target:
        planted = await target.get(await to_callback(planter))
        assert planted.status_code == 400 and SESSION_COOKIE not in target.cookies
    assert await sessions_of(engine, "worker-2") == 1


async def test_an_id_token_with_another_nonce_is_refused(
    site: Site, hub: Registered, engine: AsyncEngine
) -> None:
    site.idp.user = worker("worker-3", hub)
    site.idp.nonce_override = "a-nonce-of-another-sign-in"
    try:
        async with browser(site) as b:
            refused = await b.get("/signin/oidc")
            assert refused.status_code == 401, refused.text
            assert "was not issued for this sign-in" in refused.text
            assert SESSION_COOKIE not in b.cookies
    finally:
        site.idp.nonce_override = None
    assert await sessions_of(engine, "worker-3") == 0


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("another signing key", "the sign-on token is not valid"),
        ("another issuer", "is from another issuer"),
        ("another audience", "is not meant for this hub"),
        ("already expired", "has expired"),
    ],
)
async def test_an_id_token_that_fails_a_check_is_refused(
    site: Site, hub: Registered, engine: AsyncEngine, fault: str, message: str
) -> None:
    subject = "faulty-" + fault.replace(" ", "-")
    site.idp.user = worker(subject, hub)
    now = int(time.time())
    if fault == "another signing key":
        site.idp.rogue_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    faults: dict[str, dict[str, Any]] = {
        "another signing key": {},
        "another issuer": {"iss": "https://idp.elsewhere.test"},
        "another audience": {"aud": "another-app"},
        "already expired": {"iat": now - 600, "exp": now - 300},  # past the 30 s leeway
    }
    site.idp.tampered = faults[fault]
    try:
        async with browser(site) as b:
            refused = await b.get("/signin/oidc")
            assert refused.status_code == 401, refused.text
            assert message in refused.text
            assert SESSION_COOKIE not in b.cookies
    finally:
        site.idp.tampered, site.idp.rogue_key = {}, None
    assert await sessions_of(engine, subject) == 0


async def test_an_id_token_for_several_audiences_must_name_this_client_as_azp(
    site: Site, hub: Registered, engine: AsyncEngine
) -> None:
    site.idp.user = worker("worker-5", hub)
    site.idp.extra_audience = "another-app"
    try:
        async with browser(site) as b:
            refused = await b.get("/signin/oidc")
            assert refused.status_code == 401, refused.text
            assert "was issued to another application" in refused.text
    finally:
        site.idp.extra_audience = None
    assert await sessions_of(engine, "worker-5") == 0


async def sealed_id_tokens(engine: AsyncEngine, sub: str) -> list[bytes | None]:
    """What the sessions of ``sub`` keep of their ID tokens (sealed), oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT s.id_token_sealed FROM web_sessions s JOIN users u ON u.id = s.user_id"
                " WHERE u.oidc_subject LIKE :sub ORDER BY s.created_at"
            ),
            {"sub": f"%#{sub}"},
        )
        return [None if r[0] is None else bytes(r[0]) for r in rows]


async def signed_in_page(b: httpx.AsyncClient) -> httpx.Response:
    home = await b.get("/signin/oidc")
    assert home.status_code == 200 and home.url.path == "/", home.text
    return home


async def test_signing_out_ends_the_session_here_and_at_the_provider(
    site: Site, hub: Registered, engine: AsyncEngine
) -> None:
    """RP-Initiated Logout over HTTP: the hub's session ends, the browser goes to the
    provider's end_session_endpoint with the ID token, this client, the registered return
    address and a state, the provider ends its session and sends it back with that state,
    and the page says both sessions have ended."""
    site.idp.user = worker("worker-out", hub)
    async with browser(site, follow=False) as b:
        b.follow_redirects = True
        home = await signed_in_page(b)
        b.follow_redirects = False
        (sealed,) = await sealed_id_tokens(engine, "worker-out")
        assert sealed is not None and b"worker-out" not in sealed  # kept sealed, not in clear
        out = await b.post("/signout", data={"csrf_token": csrf_of(home)})
        assert out.status_code == 303
        to_provider = str(out.headers["location"])
        assert to_provider.startswith(f"{site.idp.issuer}/logout?")
        asked = query(to_provider)
        assert asked["client_id"] == CLIENT_ID
        assert asked["post_logout_redirect_uri"] == f"{site.url}/signed-out"
        hint = jwt.decode(asked["id_token_hint"], options={"verify_signature": False})
        assert hint["sub"] == "worker-out" and hint["aud"] == CLIENT_ID
        assert len(asked["state"]) >= 43 and b.cookies.get(SIGNOUT_COOKIE) == asked["state"]
        assert await sealed_id_tokens(engine, "worker-out") == [None]  # handed back once
        back = await b.get(to_provider)
        assert back.status_code == 302 and site.idp.signed_out[-1] == "worker-out"
        assert site.idp.user is None  # the provider's own session has ended
        landed = str(back.headers["location"])
        assert landed == f"{site.url}/signed-out?state={asked['state']}"
        page = await b.get(landed)
        assert page.status_code == 200, page.text
        assert '<h1 class="govuk-heading-l">You have signed out</h1>' in page.text
        assert "You have signed out of mashflow and of Test IdP." in page.text
        assert not b.cookies.get(SIGNOUT_COOKIE)
        # The hub's session is over: its cookie opens nothing.
        again = await b.get("/tasks")
        assert again.status_code == 303 and again.headers["location"].startswith("/signin")
        # The state is good once, in this browser: a replay cannot claim the provider's end.
        replayed = await b.get(landed)
        assert "We could not confirm that you have also signed out of Test IdP" in replayed.text
    async with browser(site) as stranger:
        forged = await stranger.get("/signed-out", params={"state": asked["state"]})
        assert "and of Test IdP" not in forged.text
        assert "We could not confirm" in forged.text


async def test_a_provider_without_an_end_session_endpoint_keeps_its_session(
    settings: Settings, engine: AsyncEngine, temporal: TemporalClient, hub: Registered
) -> None:
    """Only the hub's session ends; the page says the provider's goes on."""
    async with serve_site(Provider(end_session=False), settings, engine, temporal) as bare:
        bare.idp.user = worker("worker-stays", hub)
        async with browser(bare) as b:
            home = await signed_in_page(b)
            out = await b.post("/signout", data={"csrf_token": csrf_of(home)})
            assert [str(r.headers["location"]) for r in out.history] == [
                "/signed-out?provider=kept"
            ]
            assert out.status_code == 200 and out.url.path == "/signed-out"
            assert "You have signed out of mashflow." in out.text
            assert "You are still signed in to Test IdP" in out.text
            assert (await b.get("/tasks")).url.path == "/signin"
        assert bare.idp.signed_out == [] and bare.idp.user is not None
    assert await sealed_id_tokens(engine, "worker-stays") == [None]


async def test_a_token_sign_in_signs_out_to_the_sign_in_page(site: Site, hub: Registered) -> None:
    async with browser(site, follow=False) as b:
        await sign_in(b, hub.people[Role.AGENCY_WORKER].token)
        home = await b.get("/")
        out = await b.post("/signout", data={"csrf_token": csrf_of(home)})
        assert out.status_code == 303 and out.headers["location"] == "/signin"


async def test_the_session_ends_when_the_id_token_does(site: Site, hub: Registered) -> None:
    site.idp.user = worker("worker-4", hub)
    site.idp.id_token_lifetime_s = 3
    try:
        async with browser(site) as b:
            home = await b.get("/signin/oidc")
            assert home.status_code == 200 and home.url.path == "/"
            ends_in = re.search(r'data-ends-in-s="(\d+)"', home.text)
            assert ends_in and int(ends_in.group(1)) <= 3  # the warning knows it cannot extend
            await asyncio.sleep(3.5)
            after = await b.get("/", follow_redirects=False)
            assert after.status_code == 303 and after.headers["location"] == "/signin"
    finally:
        site.idp.id_token_lifetime_s = 300


async def test_unknown_and_revoked_people_are_refused_with_a_clear_page(
    site: Site, hub: Registered, engine: AsyncEngine
) -> None:
    site.idp.user = User("canteen-1", {"name": "Sam", "groups": ["canteen"], "agency": hub.police})
    async with browser(site) as b:
        page = await b.get("/signin/oidc")
        assert page.status_code == 403
        assert "You cannot use mashflow with this account" in page.text
        assert "no single mashflow role this hub allows" in page.text
    site.idp.user = worker("leaver-9", hub)
    async with browser(site) as b:
        assert (await b.get("/signin/oidc")).url.path == "/"
        users = UserDirectory(engine)
        (leaver,) = [u for u in await users.list() if (u.oidc_subject or "").endswith("#leaver-9")]
        await users.revoke(leaver.id)
        assert (await b.get("/", follow_redirects=False)).status_code == 303  # session ended
        again = await b.get("/signin/oidc")
        assert again.status_code == 403
        assert "Your access to mashflow has been removed" in again.text
    assert await sessions_of(engine, "leaver-9") == 1  # the first, ended; no new one


async def test_no_more_sign_ins_are_started_past_the_cap(site: Site, engine: AsyncEngine) -> None:
    """Anyone can start a sign-in, and each start writes a row: past the cap, none is."""
    oidc = site.app.state.services.oidc
    async with engine.connect() as conn:
        pending = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM oidc_logins WHERE used_at IS NULL"
                    " AND created_at > now() - interval '10 minutes'"
                )
            )
        ).scalar_one()
    oidc.max_pending = pending + 1
    try:
        async with browser(site, follow=False) as b:
            assert (await b.get("/signin/oidc")).status_code == 303  # the last one allowed
            busy = await b.get("/signin/oidc")
            assert busy.status_code == 503 and busy.headers["retry-after"] == "300"
            assert "Sign-in is busy" in busy.text
    finally:
        oidc.max_pending = 10_000


async def test_a_sign_in_cancelled_at_the_provider_says_so(site: Site) -> None:
    site.idp.user = None  # the person did not sign in there (or said no)
    async with browser(site) as b:
        page = await b.get("/signin/oidc")
        assert page.url.path == "/signin/oidc/callback"
        assert query(str(page.url))["error"] == "access_denied"
        assert page.status_code == 401
        assert "Signing in with Test IdP was cancelled or refused there" in page.text
        assert SESSION_COOKIE not in b.cookies


async def test_without_a_client_id_the_sign_in_page_offers_only_tokens(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/signin", headers={"accept": "text/html"})
    assert "Sign in with" not in page.text
    assert (await client.get("/signin/oidc", headers={"accept": "text/html"})).status_code == 404


def test_the_client_settings_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="oidc_client_id needs oidc_issuer"):
        load_settings(oidc_client_id="pages")
    with pytest.raises(ConfigurationError, match="oidc_scopes must include openid"):
        load_settings(oidc_scopes=("profile",))
    sso = {
        "oidc_issuer": "https://idp.example",
        "oidc_audience": "api",
        "oidc_jwks_url": "https://idp.example/jwks",
        "oidc_group_roles": {"staff": "agency_worker"},
        "oidc_client_id": "pages",
    }
    production = {
        "environment": "production",
        "database_url": "postgresql://h/db?sslmode=verify-full",
        "temporal_address": "t:7233",
        "temporal_api_key": "a-real-looking-api-key-0f9e8d7c",
        "kek": "7nC9XgKc1Jb0y3tQx8uVfLr2Wd6sHe4aZq5mPoNiYkE=",
    }
    with pytest.raises(ConfigurationError, match="needs oidc_redirect_uri or an https public_url"):
        load_settings(**production, **sso)
    with pytest.raises(ConfigurationError, match="oidc_redirect_uri must be https in production"):
        load_settings(**production, **sso, oidc_redirect_uri="http://hub.example/cb")
    with pytest.raises(
        ConfigurationError, match="oidc_post_logout_redirect_uri must be https in production"
    ):
        load_settings(
            **production,
            **sso,
            public_url="https://hub.example",
            oidc_post_logout_redirect_uri="http://hub.example/signed-out",
        )
    assert load_settings(**production, **sso, public_url="https://hub.example").oidc_web_sign_in
