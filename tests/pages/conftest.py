"""The real stack (PostgreSQL, the Temporal dev server, a worker, the projection and the API
over uvicorn) for the page tests that walk requests: the same fixture as ``tests/api``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.stack import Stack
from tests.api.stack import stack_fixture as stack_fixture


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the session's stack, for the steps a test takes through the API."""
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        yield client
