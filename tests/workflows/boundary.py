"""An attacker's view of a running hub: the application's client and two of its own."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from uuid import UUID

from temporalio.client import Client

from app.container import Infrastructure
from app.scenario_builder import Hub, Walk, open_request
from domain.decision import TaskKind
from tests.conftest import TEST_KEK


def kek_bytes() -> bytes:
    return base64.b64decode(TEST_KEK)


@dataclass(frozen=True)
class Boundary:
    hub: Hub
    infra: Infrastructure
    app: Client
    """The application's client: the KEK's codec and the command guard."""
    stranger: Client
    """Reaches the frontend; holds no KEK (plain JSON, the SDK's default converter)."""
    insider: Client
    """Holds the KEK's codec (encrypts as the hub does) but does not sign as the application."""
    task_queue: str

    async def open(self) -> tuple[UUID, UUID, Walk]:
        """A request held by the police, waiting for its purpose to be assessed."""
        request_id, subject_id = await open_request(self.hub, "Ivy Boundary", ["police"])
        walk = Walk(self.hub, request_id, subject_id, "police")
        await walk.until(TaskKind.ASSESS_PURPOSE)
        return request_id, subject_id, walk

    async def written(self, request_id: UUID) -> list[str]:
        """Every event of the request, as ``type by actor``."""
        events = await self.infra.store.read_correlation(request_id)
        return [f"{r.event.event_type} by {r.metadata.actor_id}" for r in events]
