"""A database URL that asks for ``sslmode=verify-full`` gets it, or no connection at all."""

from __future__ import annotations

import certifi
import pytest
from sqlalchemy import text

from infra.db import create_engine
from tests.conftest import TestDatabase


async def test_a_verify_full_url_never_falls_back_to_a_plain_connection(
    database: TestDatabase,
) -> None:
    # The test server speaks no TLS: a client that really asks for it is turned away.
    url = f"{database.admin_url}?sslmode=verify-full&sslrootcert={certifi.where()}"
    engine = create_engine(url, pool_size=1, role=None)
    try:
        with pytest.raises(ConnectionError, match="rejected SSL upgrade"):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
    # The same server over the plain URL answers, so the refusal above was the TLS demand.
    plain = create_engine(database.admin_url, pool_size=1, role=None)
    try:
        async with plain.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await plain.dispose()
