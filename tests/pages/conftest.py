"""The real stack (PostgreSQL, the Temporal dev server, a worker, the projection and the API
over uvicorn) for the page tests that walk requests: the same fixture as ``tests/api``."""

from __future__ import annotations

from tests.api.stack import stack_fixture as stack_fixture
