"""Helpers for tests that serve the API: uvicorn in the test's event loop, people with tokens."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from api.serve import server_config
from domain.vocabulary import Role
from infra.settings import Settings
from infra.stack import free_port


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (``port``, else a free one) in this event loop; yield its
    base URL; shut down cleanly."""
    port = port or free_port()
    config = server_config(app, app.state.settings, "127.0.0.1", port)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        server.should_exit = True
        await task
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


def patient(settings: Settings) -> Settings:
    """Settings for a test app shared by many tests, all calling from 127.0.0.1: the failed
    sign-ins they make on purpose must not add up to the limit (tested on its own app)."""
    return settings.with_overrides(signin_failure_limit=10_000)


@dataclass(frozen=True)
class Person:
    user_id: uuid.UUID
    role: Role
    agency: str | None
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}
