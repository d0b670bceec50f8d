"""Single sign-on: JWTs checked against a JWKS served from a local HTTP server."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.app import create_app
from infra.settings import Settings
from infra.users import UserDirectory
from tests.api.conftest import Registered, patient, serving
from tests.api.test_pages import sign_in

ISSUER = "https://idp.hub.test/realms/mash"
AUDIENCE = "mashflow-api"
KID = "test-key-1"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    document = json.dumps({"keys": [jwk | {"kid": KID, "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/protocol/openid-connect/certs"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
async def sso_client(
    settings: Settings, engine: AsyncEngine, temporal: Client, jwks_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    sso = patient(settings).with_overrides(
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=jwks_url,
        oidc_role_claim="mashflow.role",
        oidc_agency_claim="mashflow.agency",
        oidc_group_roles=GROUP_ROLES,
        oidc_hub_subjects={"coordinator": ("user-1", "leaver"), "compliance_officer": ("auditor",)},
    )
    async with (
        serving(create_app(sso, engine=engine, temporal=temporal)) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        yield client


GROUP_ROLES = {
    "coordinator": "coordinator",
    "agency_worker": "agency_worker",
    "advisor": "advisor",
    "police-safeguarding": "agency_worker",
    "hub-compliance": "compliance_officer",
}
"""The hub's allow list: groups the identity provider puts in the role claim."""


def token(
    key: rsa.RSAPrivateKey,
    *,
    role: Any = "coordinator",
    agency: str | None = None,
    audience: str = AUDIENCE,
    expires_in: int = 300,
    subject: str = "user-1",
    kid: str = KID,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": audience,
        "sub": subject,
        "iat": now,
        "exp": now + expires_in,
        "name": f"SSO {subject}",
        "mashflow": {"role": role} | ({"agency": agency} if agency else {}),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _b64json(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def test_accepts_a_good_token_and_maps_its_claims(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey, hub: Registered
) -> None:
    good = token(signing_key, role="agency_worker", agency=hub.police, subject="worker-7")
    response = await sso_client.get("/api/me", headers=bearer(good))
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["role"], me["agency"], me["display_name"]) == (
        "agency_worker",
        hub.police,
        "SSO worker-7",
    )
    again = await sso_client.get("/api/me", headers=bearer(good))
    assert again.json()["user_id"] == me["user_id"]  # one user per subject


async def test_a_hub_role_needs_no_agency(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
) -> None:
    response = await sso_client.get("/api/me", headers=bearer(token(signing_key)))
    assert response.status_code == 200
    assert response.json()["hub_level"] is True


async def test_refuses_a_token_for_another_audience(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
) -> None:
    response = await sso_client.get(
        "/api/me", headers=bearer(token(signing_key, audience="another-app"))
    )
    assert response.status_code == 401
    assert response.json()["detail"] == "the sign-on token is not meant for this hub"


async def test_refuses_an_expired_token(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
) -> None:
    response = await sso_client.get("/api/me", headers=bearer(token(signing_key, expires_in=-120)))
    assert response.status_code == 401
    assert response.json()["detail"] == "the sign-on token has expired"


async def test_refuses_an_unknown_role_with_403(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
) -> None:
    for role in ("superuser", "system", ["coordinator", "advisor"], None):
        response = await sso_client.get(
            "/api/me", headers=bearer(token(signing_key, role=role, subject="odd"))
        )
        assert response.status_code == 403, role
        assert response.headers["content-type"] == "application/problem+json"


async def test_refuses_an_agency_outside_the_register(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
) -> None:
    stranger = token(signing_key, role="agency_worker", agency="not-registered")
    response = await sso_client.get("/api/me", headers=bearer(stranger))
    assert response.status_code == 403
    assert "not-registered" in response.json()["detail"]


async def test_refuses_a_token_signed_by_another_key(
    sso_client: httpx.AsyncClient,
) -> None:
    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = await sso_client.get("/api/me", headers=bearer(token(impostor)))
    assert response.status_code == 401
    unknown_kid = await sso_client.get("/api/me", headers=bearer(token(impostor, kid="other")))
    assert unknown_kid.status_code == 401


async def test_refuses_an_unsigned_token(sso_client: httpx.AsyncClient) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 60}
    header = {"alg": "none", "typ": "JWT", "kid": KID}
    unsigned = f"{_b64json(header)}.{_b64json(claims)}."
    assert (await sso_client.get("/api/me", headers=bearer(unsigned))).status_code == 401


async def test_a_user_revoked_here_is_refused_despite_a_valid_token(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey, users: UserDirectory
) -> None:
    good = token(signing_key, subject="leaver")
    me = (await sso_client.get("/api/me", headers=bearer(good))).json()
    await users.revoke(uuid.UUID(me["user_id"]))
    assert (await sso_client.get("/api/me", headers=bearer(good))).status_code == 401


async def test_oidc_is_off_unless_configured(
    client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
) -> None:
    response = await client.get("/api/me", headers=bearer(token(signing_key)))
    assert response.status_code == 401


def test_oidc_settings_go_together_and_refuse_shared_secret_algorithms() -> None:
    from infra.settings import ConfigurationError, load_settings

    with pytest.raises(ConfigurationError, match="go together"):
        load_settings(oidc_issuer=ISSUER)
    with pytest.raises(ConfigurationError, match="MASHFLOW_OIDC_ALGORITHMS"):
        load_settings(oidc_algorithms=("HS256",))
    endpoints = {
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_url": "https://idp/certs",
    }
    with pytest.raises(ConfigurationError, match="allow list"):
        load_settings(**endpoints)
    with pytest.raises(ConfigurationError, match="not one of"):
        load_settings(**endpoints, oidc_group_roles={"admins": "superuser"})
    with pytest.raises(ConfigurationError, match="not a hub-wide role"):
        load_settings(
            **endpoints, oidc_group_roles=GROUP_ROLES, oidc_hub_subjects={"advisor": ("x",)}
        )
    complete = load_settings(**endpoints, oidc_group_roles=GROUP_ROLES)
    assert complete.oidc_enabled and not load_settings().oidc_enabled


async def test_roles_come_from_the_hubs_allow_list_of_groups(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey, hub: Registered
) -> None:
    mapped = token(
        signing_key, role=["staff", "police-safeguarding"], agency=hub.police, subject="pc-9"
    )
    response = await sso_client.get("/api/me", headers=bearer(mapped))
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "agency_worker"
    # A role name the allow list does not hold gives nothing, however the token spells it.
    unlisted = token(signing_key, role="recipient", agency=hub.police, subject="pc-10")
    refused = await sso_client.get("/api/me", headers=bearer(unlisted))
    assert refused.status_code == 403
    assert "no single mashflow role" in refused.json()["detail"]


async def test_a_hub_wide_role_is_refused_to_a_subject_the_hub_did_not_name(
    sso_client: httpx.AsyncClient,
    signing_key: rsa.RSAPrivateKey,
    users: UserDirectory,
) -> None:
    before = len(await users.list())
    for role, subject in (("hub-compliance", "intruder"), ("coordinator", "intruder-2")):
        forged = token(signing_key, role=role, subject=subject)
        response = await sso_client.get("/api/me", headers=bearer(forged))
        assert response.status_code == 403, response.text
        assert "held only by people the hub names" in response.json()["detail"]
    assert len(await users.list()) == before  # nobody was registered
    pinned = token(signing_key, role="hub-compliance", subject="auditor")
    response = await sso_client.get("/api/me", headers=bearer(pinned))
    assert response.status_code == 200 and response.json()["role"] == "compliance_officer"


async def test_a_web_session_started_with_a_sign_on_token_ends_with_the_token(
    sso_client: httpx.AsyncClient, signing_key: rsa.RSAPrivateKey
) -> None:
    short = token(signing_key, subject="user-1", expires_in=3)
    async with httpx.AsyncClient(
        base_url=sso_client.base_url, headers={"accept": "text/html"}, timeout=10
    ) as browser:
        signed_in = await sign_in(browser, short)
        assert signed_in.status_code == 303, signed_in.text
        assert (await browser.get("/")).status_code == 200
        await asyncio.sleep(3.5)
        assert (await browser.get("/")).status_code == 303
