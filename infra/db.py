"""SQLAlchemy async engine for the application, connected as the restricted app role."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from infra.settings import ConfigurationError, Settings

LIBPQ_TLS_PARAMETERS = frozenset({"sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword"})
"""URL parameters asyncpg reads from a connection string (as libpq does), not as arguments."""

APP_ROLE = "mashflow_app"
"""The role the application acts as: SELECT and INSERT only (see the migrations)."""


def asyncpg_url(url: str) -> str:
    """Any postgres URL spelled for SQLAlchemy's asyncpg dialect."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ConfigurationError("MASHFLOW_DATABASE_URL: must be a postgresql:// URL")


def plain_url(url: str) -> str:
    """Any postgres URL spelled for asyncpg itself."""
    return "postgresql://" + asyncpg_url(url)[len("postgresql+asyncpg://") :]


def create_engine(url: str, *, pool_size: int = 10, role: str | None = APP_ROLE) -> AsyncEngine:
    """An engine whose every connection acts as ``role`` (None: the login role itself).

    Acting as the role (a startup parameter, like SET ROLE) means the login
    role may be a superuser on a developer machine while every statement the
    application runs still has
    only INSERT and SELECT; in production the login role is a member of the
    app role and nothing more (docs/operations.md).
    """
    # The role is a startup parameter, not a SET ROLE statement: a SET ROLE run in the
    # connect hook lands in the transaction the driver opens lazily, and the pool's
    # reset-on-return rolls it back, leaving later checkouts as the login role.
    # As a startup parameter it is the session's reset value: even RESET ROLE keeps it.
    server_settings = {"role": role} if role is not None else {}
    options: dict[str, Any] = {"connect_args": {"server_settings": server_settings}}
    if LIBPQ_TLS_PARAMETERS & set(make_url(asyncpg_url(url)).query):
        # sslmode=verify-full and its certificates: asyncpg honours them in a connection
        # string only, so connect through one (the URL keeps them for the store's own pool).
        dsn = plain_url(url)

        async def connect() -> Any:
            return await asyncpg.connect(dsn, server_settings=server_settings)

        options = {"async_creator": connect}
    engine = create_async_engine(
        asyncpg_url(url), pool_size=pool_size, max_overflow=pool_size, **options
    )
    event.listen(engine.sync_engine.pool, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """At checkout, drop a connection the server has closed (a restart, a terminated
    backend): the pool then hands out a fresh one, and the statement never sees it.

    The check is local (asyncpg saw the socket close), no round trip: a pre-ping
    (``pool_pre_ping``) would cost three (BEGIN, a ping, ROLLBACK) before every
    statement's own. A connection that dies silently (no FIN reaches the client) fails
    its statement once, as it could after a pre-ping too.
    """
    raw = getattr(dbapi_connection, "_connection", None)  # the asyncpg connection
    if raw is not None and raw.is_closed():
        raise DisconnectionError("connection closed by the server")


def app_engine(settings: Settings) -> AsyncEngine:
    if settings.database_url is None:
        raise ConfigurationError("MASHFLOW_DATABASE_URL: not set and no embedded database running")
    return create_engine(settings.database_url, pool_size=settings.database_pool_size)
