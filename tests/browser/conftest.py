"""Browser fixtures: the real stack behind the API (from the API tests), the retention
hub and its site (from the retention tests), and Chromium."""

from __future__ import annotations

from tests.api.stack import stack_fixture  # noqa: F401  (the `stack` fixture)
from tests.retention.conftest import dev_hub  # noqa: F401  (the retention worker's hub)
from tests.retention.test_pages import site  # noqa: F401  (the API serving it)
from tests.workflows.conftest import infra  # noqa: F401  (the shared infrastructure)
