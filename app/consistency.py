"""Read your own writes: a command returns once the read models show what it recorded.

The one mechanism, used by every command (opening a request, re-rating, withdrawing,
each step of a decision, opening, acknowledging and revoking a package): the command
learns the log position its last event reached (the position the workflow answered
with, or the stream and version it answered with, looked up), then waits, bounded, until
the read models' checkpoint has passed that position. It does not only wait: it applies
the log to the read models itself (the projection is safe to run in any number of
processes, each event applied once), so the wait is as long as the projection takes, not
as long as a poll interval.

Lists come from the read models, which are built only from events the workflows
recorded; so after a command returns, any read by anyone reflects it, and nothing is
listed that its workflow has not acknowledged.

Bounded: after ``wait_s`` the command returns anyway (its effect is durable; only the
reads lag) and ``read_models_behind`` is logged.
"""

from __future__ import annotations

import asyncio

import structlog

from infra.eventstore import EventStore
from infra.readmodels import Projection

log = structlog.get_logger(__name__)

WAIT_S = 5.0
FIRST_PAUSE_S = 0.005
LONGEST_PAUSE_S = 0.05


class ReadModels:
    """Waits for the read models to pass a command's events (see the module)."""

    def __init__(self, store: EventStore, *, wait_s: float = WAIT_S) -> None:
        self._store = store
        self._projection = Projection(store)
        self.wait_s = wait_s
        self._catching_up: asyncio.Task[int] | None = None

    async def _catch_up(self) -> bool:
        """Apply the log to the read models: one catch-up at a time in this process.

        Commands that wait at the same moment share the catch-up under way (each would
        otherwise read, decode and try to commit the same batch, and all but one would
        find the checkpoint moved and read again); a waiter still behind when it ends
        starts the next. A waiter that gives up does not cancel it for the others.
        Returns whether this call started the catch-up it waited for."""
        running = self._catching_up
        started = running is None or running.done()
        if running is None or started:
            running = self._catching_up = asyncio.create_task(self._projection.catch_up())
        await asyncio.shield(running)
        return started

    async def position_of(self, stream_id: str, version: int) -> int | None:
        """The log position of a stream's event at ``version`` (None while not recorded)."""
        async with self._store.connections.acquire() as raw:  # one round trip, no BEGIN
            found = await raw.fetchval(
                "SELECT position FROM events WHERE stream_id = $1 AND version = $2",
                stream_id,
                version,
            )
        return None if found is None else int(found)

    async def show(self, stream_id: str, version: int) -> bool:
        """Return once the read models include ``stream_id`` up to ``version``, waiting for
        the event to be recorded first if need be; False if ``wait_s`` passed first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_s
        pause = FIRST_PAUSE_S
        position = await self.position_of(stream_id, version)
        while position is None:
            if loop.time() >= deadline:
                return self._behind(stream_id, version)
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)
            position = await self.position_of(stream_id, version)
        return await self._reach(position, deadline, stream_id, version)

    async def reach(self, position: int, stream_id: str, version: int) -> bool:
        """Return once the read models have passed ``position``, the log position the
        command's event (``stream_id`` at ``version``) reached, as its workflow answered;
        False if ``wait_s`` passed first."""
        deadline = asyncio.get_running_loop().time() + self.wait_s
        return await self._reach(position, deadline, stream_id, version)

    async def _reach(self, position: int, deadline: float, stream_id: str, version: int) -> bool:
        loop = asyncio.get_running_loop()
        pause = FIRST_PAUSE_S
        while await self._projection.position() < position:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return self._behind(stream_id, version)
            try:
                started = await asyncio.wait_for(self._catch_up(), remaining)
            except TimeoutError:
                return self._behind(stream_id, version)
            if await self._projection.position() >= position:
                break
            if not started:
                continue  # joined a catch-up begun before this event: run one of its own
            # Not yet readable: an earlier transaction is still committing below it.
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)
        return True

    def _behind(self, stream_id: str, version: int) -> bool:
        log.warning("read_models_behind", stream_id=stream_id, version=version, wait_s=self.wait_s)
        return False
