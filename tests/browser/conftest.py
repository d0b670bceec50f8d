"""Browser fixtures: the real stack behind the API (from the API tests), and Chromium."""

from __future__ import annotations

from tests.api.stack import stack_fixture  # noqa: F401  (the `stack` fixture)
