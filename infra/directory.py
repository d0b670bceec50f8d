"""The hub's directory: the register of agencies and ISPs, and the people who sign in.

Repositories over the application engine (SQLAlchemy Core). The app role may
read and add; of users it may update only revocation and what an identity
provider asserts; nothing is ever deleted, so every actor named in the event
log still resolves.

Tokens look like ``mf_<token id>_<secret>``. The token id finds the row; the
secret is stored only as an scrypt hash with a per-user salt. A successful
verification is remembered in process for a few minutes so requests do not
pay for scrypt each time, but the user's row (and so its revocation) is read
on every call: revoking takes effect on the next request.
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
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import ValidationFailed
from domain.vocabulary import AgencyKind, Role
from infra.transfer import new_agency_keypair

# -- tables (the shape of migration 0002_directory) ----------------------------------------

metadata = sa.MetaData()

agencies_table = sa.Table(
    "agencies",
    metadata,
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("wrapped_private_key", BYTEA, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

protocols_table = sa.Table(
    "information_sharing_protocols",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("agency_a", sa.Text, nullable=False),
    sa.Column("agency_b", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("reference", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_to", sa.Date),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

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

# -- vocabulary -------------------------------------------------------------------------------

PERSON_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.SYSTEM)
"""The roles a person can hold (``system`` is the engine's own)."""

HUB_ROLES = frozenset({Role.COORDINATOR, Role.COMPLIANCE_OFFICER})
"""Roles that act for the hub as a whole and so need no agency."""

AGENCY_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_NAME = 200
TOKEN_PREFIX = "mf"  # noqa: S105 - a prefix, not a secret
_TOKEN = re.compile(r"^mf_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")

# scrypt at n=2**14, r=8: 16 MiB and some tens of milliseconds per verification.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


class DirectoryError(Exception):
    """Base of the directory's refusals."""


class NotFoundError(DirectoryError, LookupError):
    """No such record. The message names the kind and the id, never personal detail."""


class AlreadyExistsError(DirectoryError):
    """A record with that key is already in the directory."""


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Agency:
    code: str
    name: str
    kind: AgencyKind
    public_key: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Protocol:
    """An information sharing protocol between two agencies (helpful, never required)."""

    id: uuid.UUID
    agencies: tuple[str, str]
    title: str
    reference: str
    valid_from: date
    valid_to: date | None

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


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


# -- agencies and protocols ---------------------------------------------------------------------


class AgencyDirectory:
    """The hub's register of agencies and of the ISPs between them."""

    def __init__(self, engine: AsyncEngine, kek: bytes) -> None:
        self._engine = engine
        self._kek = kek

    async def add(self, code: str, name: str, kind: AgencyKind | str) -> Agency:
        """Register an agency with a fresh transfer keypair (private half wrapped by the KEK)."""
        code = _agency_code(code)
        name = _text("name", name)
        try:
            kind = AgencyKind(kind)
        except ValueError:
            raise ValidationFailed(
                "kind", f"must be one of {', '.join(k.value for k in AgencyKind)}"
            ) from None
        keys = new_agency_keypair(self._kek, code)
        stmt = (
            agencies_table.insert()
            .values(
                code=code,
                name=name,
                kind=kind.value,
                public_key=keys.public_key,
                wrapped_private_key=keys.wrapped_private_key,
                created_at=sa.func.now(),
            )
            .returning(*_AGENCY_COLUMNS)
        )
        try:
            async with self._engine.begin() as conn:
                row = (await conn.execute(stmt)).one()
        except IntegrityError:
            raise AlreadyExistsError(f"agency {code!r} is already registered") from None
        return _agency(row)

    async def list(self) -> builtins.list[Agency]:
        stmt = sa.select(*_AGENCY_COLUMNS).order_by(agencies_table.c.code)
        async with self._engine.connect() as conn:
            return [_agency(row) for row in await conn.execute(stmt)]

    async def get(self, code: str) -> Agency:
        stmt = sa.select(*_AGENCY_COLUMNS).where(agencies_table.c.code == code)
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            raise NotFoundError(f"no agency {code!r} in the register")
        return _agency(row)

    async def wrapped_private_key(self, code: str) -> bytes:
        """The agency's private key, still wrapped by the KEK (for the secure-transfer step)."""
        stmt = sa.select(agencies_table.c.wrapped_private_key).where(agencies_table.c.code == code)
        async with self._engine.connect() as conn:
            value = (await conn.execute(stmt)).scalar_one_or_none()
        if value is None:
            raise NotFoundError(f"no agency {code!r} in the register")
        return bytes(value)

    async def add_protocol(
        self,
        first: str,
        second: str,
        *,
        title: str,
        reference: str,
        valid_from: date,
        valid_to: date | None = None,
    ) -> Protocol:
        if first == second:
            raise ValidationFailed("agencies", "a protocol is between two different agencies")
        if valid_to is not None and valid_to < valid_from:
            raise ValidationFailed("valid_to", "must not be before valid_from")
        a, b = sorted((first, second))
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "agency_a": a,
            "agency_b": b,
            "title": _text("title", title),
            "reference": _text("reference", reference, limit=100),
            "valid_from": valid_from,
            "valid_to": valid_to,
            "created_at": sa.func.now(),
        }
        stmt = protocols_table.insert().values(**values).returning(*_PROTOCOL_COLUMNS)
        try:
            async with self._engine.begin() as conn:
                row = (await conn.execute(stmt)).one()
        except IntegrityError:
            raise ValidationFailed("agencies", "both agencies must be in the register") from None
        return _protocol(row)

    async def protocols(self, agency: str | None = None) -> builtins.list[Protocol]:
        """Every protocol, or those one agency is party to; in force or not (see ``in_force``)."""
        stmt = sa.select(*_PROTOCOL_COLUMNS).order_by(
            protocols_table.c.agency_a, protocols_table.c.agency_b, protocols_table.c.valid_from
        )
        if agency is not None:
            stmt = stmt.where(
                sa.or_(protocols_table.c.agency_a == agency, protocols_table.c.agency_b == agency)
            )
        async with self._engine.connect() as conn:
            return [_protocol(row) for row in await conn.execute(stmt)]


_AGENCY_COLUMNS = (
    agencies_table.c.code,
    agencies_table.c.name,
    agencies_table.c.kind,
    agencies_table.c.public_key,
    agencies_table.c.created_at,
)
_PROTOCOL_COLUMNS = tuple(c for c in protocols_table.c if c.name != "created_at")


def _agency(row: sa.Row[*tuple[Any, ...]]) -> Agency:
    return Agency(
        code=row.code,
        name=row.name,
        kind=AgencyKind(row.kind),
        public_key=row.public_key,
        created_at=row.created_at,
    )


def _protocol(row: sa.Row[*tuple[Any, ...]]) -> Protocol:
    return Protocol(
        id=row.id,
        agencies=(row.agency_a, row.agency_b),
        title=row.title,
        reference=row.reference,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


# -- users ------------------------------------------------------------------------------------


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

    async def add(
        self, display_name: str, role: Role | str, agency: str | None, *, by: str = OPERATOR
    ) -> IssuedToken:
        """Create a user and their token; the token is returned here and nowhere else, ever.

        Recorded (``register.user_added``) by the database in the same transaction, with
        ``by`` as the actor."""
        role = parse_role(role)
        display_name = _text("name", display_name)
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
            computed = await asyncio.to_thread(_kdf, secret, bytes(row.token_salt))
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
        display_name = _text("name", display_name or "(single sign-on user)")
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


# -- validation helpers ---------------------------------------------------------------------------


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
    return _agency_code(agency, field="agency")


def _agency_code(code: str, *, field: str = "code") -> str:
    if not AGENCY_CODE.fullmatch(code):
        raise ValidationFailed(
            field, "2-40 characters: lower-case letters, digits or '_', starting with a letter"
        )
    return code


def _text(field: str, value: str, *, limit: int = MAX_NAME) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(field, "must not be empty")
    if len(value) > limit:
        raise ValidationFailed(field, f"must be at most {limit} characters")
    if any(ord(ch) < 32 for ch in value):
        raise ValidationFailed(field, "must not contain control characters")
    return value


def _kdf(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )


def role_names(roles: Sequence[Role] = PERSON_ROLES) -> str:
    return ", ".join(r.value for r in roles)
