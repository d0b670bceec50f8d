"""Who is calling: bearer tokens of the directory, or OIDC tokens from the hub's identity provider.

:class:`Authenticator` turns a credential into a :class:`Principal` or
raises :class:`Unauthenticated` (401: no valid credential) or
:class:`Forbidden` (403: a valid identity the hub does not admit, such as
an unknown role or agency). Messages never repeat the credential or any
claim value beyond role names and agency codes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import jwt
import structlog

from domain.errors import ValidationFailed
from domain.permissions import HUB_ROLES
from domain.vocabulary import Role
from infra.directory import AgencyDirectory, NotFoundError
from infra.settings import Settings
from infra.users import TOKEN_PREFIX, User, UserDirectory

log = structlog.get_logger(__name__)

JWKS_TIMEOUT_S = 5
JWKS_CACHE_S = 300


class AuthError(Exception):
    """A credential the hub does not accept. The message is safe to show the caller."""


class Unauthenticated(AuthError):  # noqa: N818 - reads as the HTTP status it becomes
    """No credential, or one that is malformed, unknown, expired, revoked or wrongly signed."""


class Revoked(Unauthenticated):
    """A sign-on token of a person whose access the hub has revoked."""


class Forbidden(AuthError):  # noqa: N818
    """A genuine identity that may not act here (unknown role, agency not in the register)."""


class TooManyFailures(AuthError):  # noqa: N818
    """This client failed to sign in too often lately; it may try again after ``retry_after_s``."""

    def __init__(self, retry_after_s: int) -> None:
        minutes = max(1, math.ceil(retry_after_s / 60))
        super().__init__(
            f"too many failed sign-ins from this address or with this credential; "
            f"try again in {minutes} minute" + ("s" if minutes > 1 else "")
        )
        self.retry_after_s = retry_after_s


def credential_key(token: str) -> str:
    """What failures are counted against for a credential: a directory token's id (so
    guesses at one person's secret add up), else a digest of the whole token."""
    if token.startswith(TOKEN_PREFIX + "_"):
        token_id = token[len(TOKEN_PREFIX) + 1 :].split("_", 1)[0]
        if token_id:
            return f"token {token_id[:32]}"
    return "digest " + hashlib.sha256(token.encode()).hexdigest()[:32]


class FailedSignIns:
    """Failed sign-ins per client in a sliding window, in this process's memory.

    ``check`` before trying a credential (raises :class:`TooManyFailures` once a
    client has ``limit`` failures within ``window_s``), ``failed`` after one is
    refused. Only the client key (an address) and instants are kept, never what
    was tried. Per process: behind several API processes each counts on its own,
    so a reverse proxy in front should limit too. The number of clients tracked
    is bounded; the longest-idle are forgotten first.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def check(self, client: str) -> None:
        now = self._clock()
        times = self._recent(client, now)
        if times is not None and len(times) >= self.limit:
            wait = times[len(times) - self.limit] + self.window_s - now
            raise TooManyFailures(max(1, math.ceil(wait)))

    def failed(self, client: str) -> None:
        now = self._clock()
        times = self._recent(client, now)
        if times is None:
            times = self._failures[client] = deque()
        times.append(now)
        while len(times) > self.limit:  # older ones no longer decide anything
            times.popleft()
        self._failures.move_to_end(client)
        while len(self._failures) > self._max_clients:
            self._failures.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Principal:
    """The person behind a request, as every permission check sees them."""

    user_id: uuid.UUID
    display_name: str
    role: Role
    agency: str | None
    expires_at: float | None = None
    """When the credential ends (a sign-on token's ``exp``); a web session ends with it."""

    @classmethod
    def of(cls, user: User) -> Principal:
        return cls(user.id, user.display_name, user.role, user.agency)

    @property
    def hub_level(self) -> bool:
        return self.role in HUB_ROLES


class OidcVerifier:
    """Validates JWTs from the configured issuer: signature (JWKS), issuer, audience, expiry."""

    def __init__(self, settings: Settings) -> None:
        if settings.oidc_jwks_url is None:
            raise ValueError("OIDC is not configured")
        self._issuer = settings.oidc_issuer
        self._audience = settings.oidc_audience
        self._algorithms = list(settings.oidc_algorithms)
        self._leeway = settings.oidc_leeway_s
        self.role_claim = settings.oidc_role_claim
        self.agency_claim = settings.oidc_agency_claim
        self.name_claim = settings.oidc_name_claim
        self.group_roles = dict(settings.oidc_group_roles)
        self.hub_subjects = dict(settings.oidc_hub_subjects)
        # PyJWKClient caches the key set and refetches when it meets an unknown key id.
        self._jwks = jwt.PyJWKClient(
            settings.oidc_jwks_url,
            cache_jwk_set=True,
            lifespan=JWKS_CACHE_S,
            timeout=JWKS_TIMEOUT_S,
        )

    async def claims(
        self, token: str, *, audience: str | None = None, id_token: bool = False
    ) -> dict[str, Any]:
        """The token's claims once its signature, issuer, audience (``audience``, else the
        configured one) and expiry are checked; an ID token must also carry a nonce."""
        required = ["exp", "iss", "aud", "sub"] + (["iat", "nonce"] if id_token else [])
        try:
            # The JWKS fetch is blocking I/O (urllib): keep it off the event loop.
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=self._algorithms,
                audience=audience or self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": required},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the sign-on token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the sign-on token is not meant for this hub") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the sign-on token is from another issuer") from None
        except jwt.PyJWKClientError:
            raise Unauthenticated("the sign-on token's key is unknown to the issuer") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the sign-on token is not valid") from None
        return claims


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by dotted path (``realm_access.roles``), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def role_from_claim(
    value: Any,
    group_roles: Mapping[str, str],
    hub_subjects: Mapping[str, tuple[str, ...]],
    subject: str,
) -> Role:
    """The one role a token's groups (a string, or a list) give through the hub's allow
    list; a hub-wide role only for a subject pinned to it. The token's word alone gives
    nothing: a group the list does not name is ignored."""
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    roles = {Role(group_roles[n]) for n in names if isinstance(n, str) and n in group_roles}
    if len(roles) != 1:
        raise Forbidden("the sign-on token's groups give no single mashflow role this hub allows")
    role = roles.pop()
    if role in HUB_ROLES and subject not in hub_subjects.get(role.value, ()):
        raise Forbidden(
            f"the {role.value} role is held only by people the hub names; "
            "this sign-on is not one of them"
        )
    return role


class Authenticator:
    """One entry point for every credential the API and the pages accept."""

    def __init__(
        self,
        users: UserDirectory,
        agencies: AgencyDirectory,
        oidc: OidcVerifier | None = None,
        failures: FailedSignIns | None = None,
    ) -> None:
        self._users = users
        self._agencies = agencies
        self._oidc = oidc
        self._failures = failures

    async def sign_in(self, token: str, client: str) -> Principal:
        """:meth:`bearer` for ``client`` (its address), with failures counted per address
        and per credential.

        A valid credential is always accepted: failing in someone's name, or from their
        address (a shared office, a proxy), never locks them out. Each failure is counted
        against the address and against the credential (a directory token's id; any other
        token by its digest); once either has failed ``limit`` times in the window, further
        failures answer :class:`TooManyFailures` (429, Retry-After) instead of 401. Only
        :class:`Unauthenticated` counts: a genuine identity the hub does not admit is not a
        guess. Nothing of the credential is logged.
        """
        try:
            return await self.bearer(token)
        except Unauthenticated:
            if self._failures is None:
                raise
            keys = (f"address {client}", f"credential {credential_key(token)}")
            try:
                for key in keys:
                    self._failures.check(key)
            except TooManyFailures as exc:
                log.warning("sign_in_rate_limited", retry_after_s=exc.retry_after_s)
                raise exc from None
            finally:
                for key in keys:
                    self._failures.failed(key)
            log.info("sign_in_failed")
            raise

    async def bearer(self, token: str) -> Principal:
        if token.startswith(TOKEN_PREFIX + "_"):
            user = await self._users.authenticate(token)
            if user is None:
                raise Unauthenticated("the token is not valid or has been revoked")
            return Principal.of(user)
        if self._oidc is not None and token.count(".") == 2:
            return await self._from_oidc(token)
        raise Unauthenticated("the token is not valid or has been revoked")

    async def user(self, user_id: uuid.UUID) -> Principal | None:
        """The principal of a signed-in web session, if the user is still active."""
        user = await self._users.get_active(user_id)
        return None if user is None else Principal.of(user)

    async def from_id_token(self, id_token: str, *, client_id: str, nonce: str) -> Principal:
        """The person an ID token from the pages' sign-in names: checked as any sign-on
        token (signature by the issuer's keys, issuer, expiry), for this client (``aud``),
        carrying the sign-in's own ``nonce``, then mapped through the allow list."""
        if self._oidc is None:
            raise Unauthenticated("single sign-on is not configured")
        claims = await self._oidc.claims(id_token, audience=client_id, id_token=True)
        given = claims.get("nonce")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
            raise Unauthenticated("the sign-on token was not issued for this sign-in")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != client_id:
            # OIDC Core 3.1.3.7: a token for several audiences must name this client as
            # the party it was issued to.
            raise Unauthenticated("the sign-on token was issued to another application")
        return await self._principal(claims)

    async def _from_oidc(self, token: str) -> Principal:
        assert self._oidc is not None
        return await self._principal(await self._oidc.claims(token))

    async def _principal(self, claims: dict[str, Any]) -> Principal:
        assert self._oidc is not None
        role = role_from_claim(
            claim(claims, self._oidc.role_claim),
            self._oidc.group_roles,
            self._oidc.hub_subjects,
            str(claims["sub"]),
        )
        agency = claim(claims, self._oidc.agency_claim)
        if agency is not None and not isinstance(agency, str):
            raise Forbidden("the sign-on token's agency claim is not an agency code")
        if agency:
            try:
                await self._agencies.get(agency)
            except NotFoundError:
                raise Forbidden(f"agency {agency!r} is not in the hub's register") from None
        name = claim(claims, self._oidc.name_claim)
        name = "".join(ch for ch in name if ch.isprintable())[:200] if isinstance(name, str) else ""
        subject = f"{claims['iss']}#{claims['sub']}"
        try:
            user = await self._users.ensure_oidc_user(subject, name, role, agency or None)
        except ValidationFailed as exc:
            raise Forbidden(f"the sign-on token cannot act here: {exc.message}") from None
        if user is None:
            raise Revoked("this user has been revoked in mashflow")
        expiry = claims.get("exp")
        return replace(
            Principal.of(user), expires_at=float(expiry) if isinstance(expiry, int) else None
        )
