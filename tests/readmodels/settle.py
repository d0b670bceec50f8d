"""Catching the projection up to a request's last event.

Subscriptions read below the transaction-id horizon, so an event that has
just committed can stay invisible for a moment while another transaction is
open; tests wait for it rather than race it.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from app.container import Infrastructure
from app.queries import Queries
from infra.readmodels import ProjectionRunner


async def settled(infra: Infrastructure, *rids: UUID) -> Queries:
    runner = ProjectionRunner(infra.store)
    wanted = 0
    for rid in rids:
        events = await infra.store.read_correlation(rid)
        wanted = max([wanted, *(e.position for e in events)])
    # Visible to readers of the log first (bounded, generous under load), then applied.
    await infra.store.wait_visible(wanted, within_s=30.0)
    for _ in range(200):
        await runner.catch_up()
        if await runner.projection.position() >= wanted:
            break
        await asyncio.sleep(0.05)
    else:
        raise TimeoutError("the read models did not catch up")
    return Queries(infra.engine)
