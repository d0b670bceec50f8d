"""A small but real OpenID Connect provider for tests, served by uvicorn on a free port.

It speaks the parts of OIDC mashflow's pages use, over real HTTP: discovery, a JWKS,
an authorisation endpoint (authorisation code only, PKCE S256 required), a token
endpoint (client_secret_basic, or client_id alone for a public client) that checks the
code (once, unexpired, same client and redirect URI) and the code verifier against the
challenge, and answers with an RS256-signed ID token carrying the request's nonce; and
an end-session endpoint (OpenID Connect RP-Initiated Logout 1.0) that checks the
``id_token_hint`` (its own signature, issued to the client named), sends the browser
only to a ``post_logout_redirect_uri`` the client registered, with its ``state``, and
ends the provider's session (``user`` becomes None). ``end_session=False`` makes a
provider that offers none (no ``end_session_endpoint`` in its discovery).

There is no login form: the person who "signs in" at the provider is ``provider.user``,
set by the test (as a person would have typed their password). A test can make the
provider misbehave where a real one could be hostile or wrong: ``nonce_override`` puts
another nonce in the next ID tokens, ``tampered`` other claims, ``rogue_key`` signs them
with a key not in the JWKS; ``id_token_lifetime_s`` makes them short-lived.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from infra.stack import free_port

KID = "test-provider-key"
CODE_TTL_S = 60


@dataclass
class Client:
    client_id: str
    redirect_uri: str
    secret: str | None = None
    post_logout_redirect_uris: tuple[str, ...] = ()


@dataclass
class User:
    sub: str
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    user: User
    expires: float
    used: bool = False


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Provider:
    def __init__(self, *, end_session: bool = True) -> None:
        self.issuer = ""  # set once it is served
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.clients: dict[str, Client] = {}
        self.user: User | None = None
        self.id_token_lifetime_s = 300
        self.nonce_override: str | None = None
        self.extra_audience: str | None = None
        self.tampered: dict[str, Any] = {}
        """Claims the next ID tokens carry instead of the right ones (``iss``, ``aud``...)."""
        self.rogue_key: rsa.RSAPrivateKey | None = None
        """A key not in the JWKS that the next ID tokens are signed with (same key id)."""
        """Another audience the next ID tokens also name (with no ``azp``)."""
        self.tokens_issued = 0
        self.refusals: list[str] = []
        self.end_session = end_session
        self.signed_out: list[str] = []
        """The subjects whose session here was ended through the end-session endpoint."""
        self._codes: dict[str, _Code] = {}
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/logout", self.logout, methods=["GET", "POST"]),
            ]
        )

    # -- endpoints ------------------------------------------------------------------------

    async def discovery(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            }
            | ({"end_session_endpoint": f"{self.issuer}/logout"} if self.end_session else {})
        )

    async def jwks(self, _request: Request) -> Response:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return JSONResponse({"keys": [jwk | {"kid": KID, "use": "sig", "alg": "RS256"}]})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        client = self.clients.get(q.get("client_id", ""))
        if client is None or q.get("redirect_uri") != client.redirect_uri:
            # Never redirect to an address the client did not register.
            return PlainTextResponse("unknown client or redirect_uri", status_code=400)

        def back(**params: str) -> Response:
            state = q.get("state")
            query = urlencode(params | ({"state": state} if state else {}))
            return RedirectResponse(f"{client.redirect_uri}?{query}", status_code=302)

        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            return back(error="unsupported_response_type")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return back(error="invalid_request", error_description="PKCE S256 is required")
        if self.user is None:
            return back(error="access_denied")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            client.client_id,
            client.redirect_uri,
            q["code_challenge"],
            q.get("nonce"),
            self.user,
            time.time() + CODE_TTL_S,
        )
        return back(code=code)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        client = self._authenticate(request, values)
        if client is None:
            return self._refuse("invalid_client", 401)
        if values.get("grant_type") != "authorization_code":
            return self._refuse("unsupported_grant_type")
        found = self._codes.get(values.get("code", ""))
        if found is None or found.used or found.expires < time.time():
            return self._refuse("invalid_grant")
        found.used = True  # once, whatever happens next
        if found.client_id != client.client_id or found.redirect_uri != values.get("redirect_uri"):
            return self._refuse("invalid_grant")
        verifier = values.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128 or not secrets.compare_digest(
            s256(verifier), found.challenge
        ):
            return self._refuse("invalid_grant", description="code_verifier does not match")
        now = int(time.time())
        claims = found.user.claims | {
            "iss": self.issuer,
            "sub": found.user.sub,
            "aud": [client.client_id, self.extra_audience]
            if self.extra_audience
            else client.client_id,
            "iat": now,
            "exp": now + self.id_token_lifetime_s,
        }
        nonce = self.nonce_override or found.nonce
        if nonce is not None:
            claims["nonce"] = nonce
        claims |= self.tampered
        key = self.rogue_key or self.key
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})
        self.tokens_issued += 1
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": self.id_token_lifetime_s,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def logout(self, request: Request) -> Response:
        """RP-Initiated Logout 1.0: end the session here, then back to the client."""
        if not self.end_session:
            return PlainTextResponse("not found", status_code=404)
        values = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            values |= {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            claims = jwt.decode(
                values.get("id_token_hint", ""),
                self.key.public_key(),
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"verify_aud": False, "verify_exp": False},  # an expired hint is fine
            )
        except jwt.InvalidTokenError:
            self.refusals.append("logout: id_token_hint not issued here")
            return PlainTextResponse("id_token_hint not issued here", status_code=400)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        client = self.clients.get(values.get("client_id", ""))
        if client is None or client.client_id not in audiences:
            self.refusals.append("logout: client_id not the token's audience")
            return PlainTextResponse("unknown client", status_code=400)
        back = values.get("post_logout_redirect_uri")
        if back is not None and back not in client.post_logout_redirect_uris:
            # Never redirect to an address the client did not register.
            self.refusals.append("logout: post_logout_redirect_uri not registered")
            return PlainTextResponse("post_logout_redirect_uri not registered", status_code=400)
        self.signed_out.append(str(claims.get("sub")))
        self.user = None
        if back is None:
            return PlainTextResponse("You have signed out of the test provider.")
        state = values.get("state")
        query = urlencode({"state": state}) if state else ""
        return RedirectResponse(f"{back}?{query}" if query else back, status_code=302)

    # -- helpers --------------------------------------------------------------------------

    def _authenticate(self, request: Request, values: dict[str, str]) -> Client | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                pair = base64.b64decode(header[6:]).decode()
            except ValueError:
                return None
            client_id, _, secret = pair.partition(":")
            client = self.clients.get(client_id)
            if client is None or client.secret is None:
                return None
            return client if secrets.compare_digest(secret, client.secret) else None
        client = self.clients.get(values.get("client_id", ""))
        return client if client is not None and client.secret is None else None

    def _refuse(self, error: str, status: int = 400, description: str = "") -> Response:
        self.refusals.append(error + (f": {description}" if description else ""))
        body = {"error": error} | ({"error_description": description} if description else {})
        return JSONResponse(body, status_code=status)


@contextlib.asynccontextmanager
async def running(provider: Provider) -> AsyncIterator[Provider]:
    """Serve ``provider`` on 127.0.0.1 (a free port) in this event loop until the block ends."""
    port = free_port()
    provider.issuer = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        provider.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        server.should_exit = True
        await task
        raise RuntimeError("the test identity provider did not start")
    try:
        yield provider
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
