"""The pages' OIDC client: the authorisation-code flow with PKCE (S256).

:meth:`OidcClient.start` makes a sign-in's secrets (state, nonce, code verifier),
keeps them on the server (table ``oidc_logins``, keyed by the state's SHA-256) and
gives the provider's authorisation URL; :meth:`OidcClient.take` hands them back once,
for the state the provider returned, within :data:`LOGIN_TTL_S`; :meth:`OidcClient.
exchange` trades the code and verifier for the ID token at the token endpoint. The ID
token itself is checked by :meth:`infra.auth.Authenticator.from_id_token`.
:meth:`OidcClient.end_session_url` is where signing out sends the browser when the
provider offers OpenID Connect RP-Initiated Logout 1.0 (``end_session_endpoint``).

The provider's endpoints come from its discovery document, whose issuer must be the
configured one. Nothing here logs a code, a token, a state or a claim.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from infra.settings import Environment, Settings

LOGIN_TTL_S = 600
"""A sign-in must come back from the provider within ten minutes of its start."""
HTTP_TIMEOUT_S = 10
MAX_RESPONSE = 1024 * 1024
CALLBACK_PATH = "/signin/oidc/callback"
SIGNED_OUT_PATH = "/signed-out"
"""Where the provider sends people back after signing out there (by default)."""
MAX_PENDING = 10_000
"""Sign-ins started and not come back within :data:`LOGIN_TTL_S` beyond which no more are
started (each start writes a row, and anyone can start one)."""

_START = text(
    "INSERT INTO oidc_logins (state_hash, nonce, code_verifier, return_to)"
    " VALUES (:state, :nonce, :verifier, :return_to)"
)
_FORGET = text("DELETE FROM oidc_logins WHERE created_at < now() - interval '1 day'")
_PENDING = text(
    "SELECT count(*) FROM oidc_logins WHERE used_at IS NULL"
    " AND created_at > now() - make_interval(secs => :ttl)"
)
_TAKE = text(
    "UPDATE oidc_logins SET used_at = now() WHERE state_hash = :state AND used_at IS NULL"
    " AND created_at > now() - make_interval(secs => :ttl)"
    " RETURNING nonce, code_verifier, return_to"
)


class OidcSignInError(Exception):
    """A sign-in through the provider that cannot go on. The message is safe to show."""


class TooManySignIns(OidcSignInError):  # noqa: N818 - reads as the 503 it becomes
    """More sign-ins are under way than :data:`MAX_PENDING`: none is started for now."""


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    nonce: str
    code_verifier: str
    return_to: str


@dataclass(frozen=True, slots=True)
class Endpoints:
    authorization: str
    token: str
    end_session: str | None = None
    """RP-Initiated Logout's endpoint; None where the provider offers none."""


def code_challenge(verifier: str) -> str:
    """PKCE S256: base64url(SHA-256(verifier)), unpadded (RFC 7636 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


class OidcClient:
    def __init__(self, settings: Settings, engine: AsyncEngine) -> None:
        if settings.oidc_client_id is None or settings.oidc_issuer is None:
            raise ValueError("the pages' OIDC client is not configured")
        self._engine = engine
        self._issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        secret = settings.oidc_client_secret
        self._secret = secret.get_secret_value() if secret is not None else None
        self.redirect_uri = settings.oidc_redirect_uri or settings.link_base + CALLBACK_PATH
        self.post_logout_redirect_uri = (
            settings.oidc_post_logout_redirect_uri or settings.link_base + SIGNED_OUT_PATH
        )
        self._scopes = " ".join(settings.oidc_scopes)
        self._discovery = settings.oidc_discovery_url or (
            self._issuer.rstrip("/") + "/.well-known/openid-configuration"
        )
        self._https_only = settings.environment is Environment.PRODUCTION
        self.provider_name = settings.oidc_provider_name
        self._endpoints: Endpoints | None = None
        self.max_pending = MAX_PENDING

    async def endpoints(self) -> Endpoints:
        """The provider's authorisation and token endpoints (discovered once, then kept)."""
        if self._endpoints is None:
            document = await asyncio.to_thread(_fetch_json, self._discovery, None, None)
            if document.get("issuer") != self._issuer:
                raise OidcSignInError("the identity provider's discovery names another issuer")
            end_session = document.get("end_session_endpoint")
            found = Endpoints(
                str(document.get("authorization_endpoint", "")),
                str(document.get("token_endpoint", "")),
                str(end_session) if end_session else None,
            )
            optional = [found.end_session] if found.end_session is not None else []
            for url in (found.authorization, found.token, *optional):
                if urlsplit(url).scheme not in (
                    ("https",) if self._https_only else ("https", "http")
                ):
                    raise OidcSignInError("the identity provider's endpoints are not https URLs")
            self._endpoints = found
        return self._endpoints

    async def start(self, return_to: str) -> tuple[str, str]:
        """A new sign-in: its state (for the browser's cookie) and the provider's URL."""
        endpoints = await self.endpoints()
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved alphabet
        async with self._engine.begin() as conn:
            await conn.execute(_FORGET)
            pending = (await conn.execute(_PENDING, {"ttl": LOGIN_TTL_S})).scalar_one()
            if pending >= self.max_pending:
                raise TooManySignIns("too many sign-ins are under way")
            await conn.execute(
                _START,
                {
                    "state": _hash(state),
                    "nonce": nonce,
                    "verifier": verifier,
                    "return_to": return_to,
                },
            )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": self._scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if urlsplit(endpoints.authorization).query else "?"
        return state, f"{endpoints.authorization}{separator}{query}"

    async def end_session_url(self, id_token: str, state: str) -> str | None:
        """Where to send the browser to sign out at the provider too (RP-Initiated Logout
        1.0): its ``end_session_endpoint`` with the ID token as ``id_token_hint``, this
        client's id, the registered ``post_logout_redirect_uri`` and ``state``; None where
        the provider offers no such endpoint."""
        endpoints = await self.endpoints()
        if endpoints.end_session is None:
            return None
        query = urlencode(
            {
                "id_token_hint": id_token,
                "client_id": self.client_id,
                "post_logout_redirect_uri": self.post_logout_redirect_uri,
                "state": state,
            }
        )
        separator = "&" if urlsplit(endpoints.end_session).query else "?"
        return f"{endpoints.end_session}{separator}{query}"

    async def take(self, state: str) -> PendingSignIn | None:
        """The sign-in started with ``state``, once: None if unknown, used or too old."""
        if not state or len(state) > 200:
            return None
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(_TAKE, {"state": _hash(state), "ttl": LOGIN_TTL_S})
            ).one_or_none()
        return None if row is None else PendingSignIn(row.nonce, row.code_verifier, row.return_to)

    async def exchange(self, code: str, verifier: str) -> str:
        """The ID token the token endpoint gives for ``code`` and its PKCE ``verifier``."""
        endpoints = await self.endpoints()
        body = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": verifier,
            "client_id": self.client_id,
        }
        auth = None
        if self._secret is not None:
            # RFC 6749 2.3.1: each part form-encoded, then HTTP Basic.
            pair = f"{_form(self.client_id)}:{_form(self._secret)}".encode()
            auth = "Basic " + base64.b64encode(pair).decode()
        answer = await asyncio.to_thread(_fetch_json, endpoints.token, body, auth)
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcSignInError("the identity provider gave no ID token")
        return id_token


def _form(value: str) -> str:
    return urlencode({"": value})[1:]


def _fetch_json(url: str, form: dict[str, str] | None, auth: str | None) -> dict[str, Any]:
    """GET (or, with ``form``, POST) ``url`` and read its JSON object (blocking)."""
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if auth is not None:
        headers["Authorization"] = auth
    if urlsplit(url).scheme not in ("https", "http"):
        raise OidcSignInError("the identity provider's address is not an http(s) URL")
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - checked
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:  # noqa: S310
            raw = response.read(MAX_RESPONSE)
    except urllib.error.HTTPError as exc:
        if form is not None and exc.code in (400, 401):
            raise OidcSignInError(
                "the identity provider did not accept this sign-in; start again"
            ) from None
        raise OidcSignInError(f"the identity provider answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError):
        raise OidcSignInError("the identity provider cannot be reached") from None
    try:
        value = json.loads(raw)
    except ValueError:
        raise OidcSignInError("the identity provider's answer is not JSON") from None
    if not isinstance(value, dict):
        raise OidcSignInError("the identity provider's answer is not a JSON object")
    return value
