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

import builtins
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.errors import ValidationFailed
from domain.inputs import EARLIEST
from domain.vocabulary import AgencyKind, public_authority_by_kind
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
    sa.Column("public_authority", sa.Boolean, nullable=False),
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


# -- vocabulary -------------------------------------------------------------------------------


AGENCY_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_NAME = 200

# scrypt at n=2**14, r=8: 16 MiB and some tens of milliseconds per verification.


class DirectoryError(Exception):
    """Base of the directory's refusals."""


class NotFoundError(DirectoryError, LookupError):
    """No such record. The message names the kind and the id, never personal detail."""


class AlreadyExistsError(DirectoryError):
    """A record with that key is already in the directory."""


# -- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisteredAgency:
    code: str
    name: str
    kind: AgencyKind
    public_key: str
    created_at: datetime
    public_authority: bool = True
    """A public authority (public task is its basis for its functions); set in the register."""


@dataclass(frozen=True, slots=True)
class RegisteredIsp:
    """An information sharing protocol between two agencies (helpful, never required)."""

    id: uuid.UUID
    agencies: tuple[str, str]
    title: str
    reference: str
    valid_from: date
    valid_to: date | None

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


# -- agencies and protocols ---------------------------------------------------------------------


class AgencyDirectory:
    """The hub's register of agencies and of the ISPs between them."""

    def __init__(self, engine: AsyncEngine, kek: bytes) -> None:
        self._engine = engine
        self._kek = kek

    async def add(
        self,
        code: str,
        name: str,
        kind: AgencyKind | str,
        public_authority: bool | None = None,
    ) -> RegisteredAgency:
        """Register an agency with a fresh transfer keypair (private half wrapped by the KEK).
        Whether it is a public authority defaults from its kind when not given."""
        code = checked_code(code)
        name = checked_text("name", name)
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
                public_authority=(
                    public_authority_by_kind(kind) if public_authority is None else public_authority
                ),
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

    async def list(self) -> builtins.list[RegisteredAgency]:
        stmt = sa.select(*_AGENCY_COLUMNS).order_by(agencies_table.c.code)
        async with self._engine.connect() as conn:
            return [_agency(row) for row in await conn.execute(stmt)]

    async def get(self, code: str) -> RegisteredAgency:
        stmt = sa.select(*_AGENCY_COLUMNS).where(agencies_table.c.code == code)
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).one_or_none()
        if row is None:
            raise NotFoundError(f"no agency {code!r} in the register")
        return _agency(row)

    async def set_public_authority(
        self, code: str, public_authority: bool, *, by: str, by_role: str
    ) -> RegisteredAgency:
        """Record whether the agency is a public authority. The database function changes
        the row and appends ``register.agency_public_authority_changed`` in one transaction
        (nothing when the value is unchanged); the app role cannot UPDATE the row itself."""
        async with self._engine.begin() as conn:
            found = (
                await conn.execute(
                    _SET_PUBLIC_SQL,
                    {"code": code, "public": public_authority, "by": by, "by_role": by_role},
                )
            ).one_or_none()
        if found is None:
            raise NotFoundError(f"no agency {code!r} in the register")
        return await self.get(code)

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
    ) -> RegisteredIsp:
        if first == second:
            raise ValidationFailed("agencies", "a protocol is between two different agencies")
        if valid_from < EARLIEST:  # a date typed wrong (year 1, 0202), not a protocol's
            raise ValidationFailed("valid_from", f"must be on or after {EARLIEST.isoformat()}")
        if valid_to is not None and valid_to < valid_from:
            raise ValidationFailed("valid_to", "must not be before valid_from")
        a, b = sorted((first, second))
        values: dict[str, Any] = {
            "id": uuid.uuid4(),
            "agency_a": a,
            "agency_b": b,
            "title": checked_text("title", title),
            "reference": checked_text("reference", reference, limit=100),
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

    async def protocols(self, agency: str | None = None) -> builtins.list[RegisteredIsp]:
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
    agencies_table.c.public_authority,
)
_SET_PUBLIC_SQL = sa.text(
    "SELECT * FROM mashflow_set_public_authority(:code, :public, :by, :by_role)"
)
_PROTOCOL_COLUMNS = tuple(c for c in protocols_table.c if c.name != "created_at")


def _agency(row: sa.Row[*tuple[Any, ...]]) -> RegisteredAgency:
    return RegisteredAgency(
        code=row.code,
        name=row.name,
        kind=AgencyKind(row.kind),
        public_key=row.public_key,
        created_at=row.created_at,
        public_authority=row.public_authority,
    )


def _protocol(row: sa.Row[*tuple[Any, ...]]) -> RegisteredIsp:
    return RegisteredIsp(
        id=row.id,
        agencies=(row.agency_a, row.agency_b),
        title=row.title,
        reference=row.reference,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


# -- users ------------------------------------------------------------------------------------


# -- validation helpers ---------------------------------------------------------------------------


def checked_code(code: str, *, field: str = "code") -> str:
    if not AGENCY_CODE.fullmatch(code):
        raise ValidationFailed(
            field, "2-40 characters: lower-case letters, digits or '_', starting with a letter"
        )
    return code


def checked_text(field: str, value: str, *, limit: int = MAX_NAME) -> str:
    value = value.strip()
    if not value:
        raise ValidationFailed(field, "must not be empty")
    if len(value) > limit:
        raise ValidationFailed(field, f"must be at most {limit} characters")
    if any(ord(ch) < 32 for ch in value):
        raise ValidationFailed(field, "must not contain control characters")
    return value
