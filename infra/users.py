"""The user register: people, their role and agency, and the tokens they sign in with.

Tokens are ``mf_<id>_<secret>``; only a scrypt hash of the secret is kept. The
agencies the users belong to are :mod:`infra.directory`'s.
"""

from __future__ import annotations

import asyncio
import builtins
import hashlib
import hmac
import re
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import ValidationFailed
from domain.permissions import HUB_ROLES
from domain.vocabulary import Role
from infra.directory import (
    NotFoundError,
    checked_code,
    checked_text,
    metadata,
)

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


users_table = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("agency_code", sa.Text),
    sa.Column("token_id", sa.Text),
    sa.Column("token_salt", BYTEA),
    sa.Column("token_hash", BYTEA),
    sa.Column("oidc_subject", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

PERSON_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.SYSTEM)
"""The roles a person can hold (``system`` is the engine's own)."""


TOKEN_PREFIX = "mf"  # noqa: S105 - a prefix, not a secret

_TOKEN = re.compile(r"^mf_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


OPERATOR = "operator"
"""The actor of register changes made at the command line (an operator of the hub)."""

IDENTITY_PROVIDER = "identity-provider"
"""The actor of register changes that follow an identity provider's token."""

_ADD_SQL = sa.text(
    "SELECT * FROM mashflow_add_user(:id, :name, :role, CAST(:agency AS text), "
    "CAST(:token_id AS text), CAST(:salt AS bytea), CAST(:hash AS bytea), "
    "CAST(:subject AS text), :by, :by_role)"
)

_CHANGE_SQL = sa.text(
    "SELECT * FROM mashflow_change_user(:id, :role, CAST(:agency AS text), :by, :by_role)"
)

_REVOKE_SQL = sa.text("SELECT * FROM mashflow_revoke_user(:id, :by, :by_role)")


@dataclass(frozen=True, slots=True)
class User:
    id: uuid.UUID
    display_name: str
    role: Role
    agency: str | None
    created_at: datetime
    revoked_at: datetime | None
    oidc_subject: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new user and their token. The token is shown once and never stored in clear."""

    user: User
    token: str


class UserDirectory:
    """People who sign in: bearer-token users made by an operator, and OIDC users on first use."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        cache_ttl_s: float = 300.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._cache_ttl_s = cache_ttl_s
        self._cache_size = cache_size
        self._clock = clock
        # token id -> (sha256 of the whole token, stored hash it was checked against, expiry)
        self._verified: OrderedDict[str, tuple[bytes, bytes, float]] = OrderedDict()
        # (token id, fingerprint, stored hash) -> the key derivation under way for it
        self._deriving: dict[tuple[str, bytes, bytes], asyncio.Future[bytes]] = {}

    async def add(
        self, display_name: str, role: Role | str, agency: str | None, *, by: str = OPERATOR
    ) -> IssuedToken:
        """Create a user and their token; the token is returned here and nowhere else, ever.

        Recorded (``register.user_added``) by the database in the same transaction, with
        ``by`` as the actor."""
        role = parse_role(role)
        display_name = checked_text("name", display_name)
        agency = _agency_for(role, agency)
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        token_hash = await asyncio.to_thread(_kdf, secret, salt)
        user = await self._add_row(
            {
                "id": uuid.uuid4(),
                "name": display_name,
                "role": role.value,
                "agency": agency,
                "token_id": token_id,
                "salt": salt,
                "hash": token_hash,
                "subject": None,
            },
            by,
        )
        assert user is not None  # a token user has no identity-provider subject to clash on
        return IssuedToken(user=user, token=f"{TOKEN_PREFIX}_{token_id}_{secret}")

    async def list(self, *, include_revoked: bool = True) -> builtins.list[User]:
        stmt = sa.select(*_USER_COLUMNS).order_by(users_table.c.created_at, users_table.c.id)
        if not include_revoked:
            stmt = stmt.where(users_table.c.revoked_at.is_(None))
        async with self._engine.connect() as conn:
            return [_user(row) for row in await conn.execute(stmt)]

    async def get(self, user_id: uuid.UUID) -> User:
        stmt = sa.select(*_USER_COLUMNS).where(users_table.c.id == user_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            raise NotFoundError(f"no user {user_id}")
        return _user(row)

    async def revoke(self, user_id: uuid.UUID, *, by: str = OPERATOR) -> User:
        """Refuse the user from now on (idempotent: revoking twice keeps the first time).

        One-way: the database refuses any later change of a revoked user's revocation,
        role or agency, whoever asks; recorded as ``register.user_revoked``."""
        async with self._engine.begin() as conn:
            row = (
                await conn.execute(_REVOKE_SQL, {"id": user_id, "by": by, "by_role": OPERATOR})
            ).one_or_none()
            token_id = None
            if row is not None:
                token_id = row.token_id
        if row is None:
            raise NotFoundError(f"no user {user_id}")
        if token_id is not None:
            self._verified.pop(token_id, None)
        return _user(row)

    async def change(
        self, user_id: uuid.UUID, role: Role | str, agency: str | None, *, by: str = OPERATOR
    ) -> User:
        """Give an active user another role or agency, recorded as
        ``register.user_role_changed`` (a plain UPDATE of either is refused to the app role).
        """
        role = parse_role(role)
        agency = _agency_for(role, agency)
        user = await self.get(user_id)
        if not user.active:
            raise ValidationFailed("user", "revoked: a revoked user's role cannot change")
        try:
            async with self._engine.begin() as conn:
                row = (
                    await conn.execute(
                        _CHANGE_SQL,
                        {
                            "id": user_id,
                            "role": role.value,
                            "agency": agency,
                            "by": by,
                            "by_role": OPERATOR,
                        },
                    )
                ).one_or_none()
        except IntegrityError:
            raise ValidationFailed("agency", f"no agency {agency!r} in the register") from None
        if row is None:
            raise NotFoundError(f"no user {user_id}")
        return _user(row)

    async def authenticate(self, token: str) -> User | None:
        """The active user a token belongs to, or None (malformed, unknown, wrong or revoked)."""
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        token_id, secret = match.groups()
        stmt = sa.select(*_USER_COLUMNS, users_table.c.token_salt, users_table.c.token_hash).where(
            users_table.c.token_id == token_id
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            return None
        if row.revoked_at is not None:
            self._verified.pop(token_id, None)
            return None
        stored = bytes(row.token_hash)
        fingerprint = hashlib.sha256(token.encode()).digest()
        if not self._remembered(token_id, fingerprint, stored):
            computed = await self._derive((token_id, fingerprint, stored), secret, row.token_salt)
            if not hmac.compare_digest(computed, stored):
                return None
            self._remember(token_id, fingerprint, stored)
        return _user(row)

    async def get_active(self, user_id: uuid.UUID) -> User | None:
        """The user if they exist and are not revoked (web sessions check this per request)."""
        try:
            user = await self.get(user_id)
        except NotFoundError:
            return None
        return user if user.active else None

    async def ensure_oidc_user(
        self, subject: str, display_name: str, role: Role, agency: str | None
    ) -> User | None:
        """The user behind an OIDC subject, created on first sign-in and kept in step with the
        role and agency the identity provider asserts. None if the user was revoked here."""
        role = parse_role(role)
        agency = _agency_for(role, agency)
        display_name = checked_text("name", display_name or "(single sign-on user)")
        select = sa.select(*_USER_COLUMNS).where(users_table.c.oidc_subject == subject)
        async with self._engine.connect() as conn:
            row = (await conn.execute(select)).one_or_none()
        if row is None:
            added = await self._add_row(
                {
                    "id": uuid.uuid4(),
                    "name": display_name,
                    "role": role.value,
                    "agency": agency,
                    "token_id": None,
                    "salt": None,
                    "hash": None,
                    "subject": subject,
                },
                IDENTITY_PROVIDER,
            )
            if added is not None:
                return added
            async with self._engine.connect() as conn:  # a concurrent first sign-in won
                row = (await conn.execute(select)).one()
        user = _user(row)
        if not user.active:
            return None
        if (user.role, user.agency) != (role, agency):
            user = await self.change(user.id, role, agency, by=IDENTITY_PROVIDER)
        if user.display_name != display_name:
            update = (
                users_table.update()
                .where(users_table.c.id == user.id)
                .values(display_name=display_name)
                .returning(*_USER_COLUMNS)
            )
            async with self._engine.begin() as conn:
                user = _user((await conn.execute(update)).one())
        return user

    async def _add_row(self, values: dict[str, Any], by: str) -> User | None:
        """Add a user through the database's recorded function (None: the identity-provider
        subject is already registered)."""
        try:
            async with self._engine.begin() as conn:
                row = (
                    await conn.execute(_ADD_SQL, {**values, "by": by, "by_role": OPERATOR})
                ).one_or_none()
        except IntegrityError:
            raise ValidationFailed(
                "agency", f"no agency {values['agency']!r} in the register"
            ) from None
        return None if row is None else _user(row)

    async def _derive(self, key: tuple[str, bytes, bytes], secret: str, salt: bytes) -> bytes:
        """The slow hash of a token, once however many requests bring it at the same time
        (a client's first burst would otherwise queue one scrypt a request)."""
        pending = self._deriving.get(key)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(_kdf, secret, bytes(salt)))
            self._deriving[key] = pending
            pending.add_done_callback(lambda _: self._deriving.pop(key, None))
        return await asyncio.shield(pending)

    def _remembered(self, token_id: str, fingerprint: bytes, stored: bytes) -> bool:
        entry = self._verified.get(token_id)
        if entry is None:
            return False
        seen, against, expires = entry
        if expires < self._clock() or not hmac.compare_digest(against, stored):
            self._verified.pop(token_id, None)
            return False
        return hmac.compare_digest(seen, fingerprint)

    def _remember(self, token_id: str, fingerprint: bytes, stored: bytes) -> None:
        self._verified[token_id] = (fingerprint, stored, self._clock() + self._cache_ttl_s)
        self._verified.move_to_end(token_id)
        while len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)


_USER_COLUMNS = (
    users_table.c.id,
    users_table.c.display_name,
    users_table.c.role,
    users_table.c.agency_code,
    users_table.c.oidc_subject,
    users_table.c.created_at,
    users_table.c.revoked_at,
)


def _user(row: sa.Row[*tuple[Any, ...]]) -> User:
    return User(
        id=row.id,
        display_name=row.display_name,
        role=Role(row.role),
        agency=row.agency_code,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        oidc_subject=row.oidc_subject,
    )


def parse_role(value: Role | str) -> Role:
    """A person's role, or :class:`ValidationFailed` listing the valid ones."""
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role is None or role is Role.SYSTEM:
        raise ValidationFailed("role", f"must be one of {', '.join(r.value for r in PERSON_ROLES)}")
    return role


def _agency_for(role: Role, agency: str | None) -> str | None:
    if agency is None or agency == "":
        if role not in HUB_ROLES:
            raise ValidationFailed(
                "agency", f"the {role.value} role acts for an agency; give its code"
            )
        return None
    return checked_code(agency, field="agency")


def _kdf(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )


def role_names(roles: Sequence[Role] = PERSON_ROLES) -> str:
    return ", ".join(r.value for r in roles)
