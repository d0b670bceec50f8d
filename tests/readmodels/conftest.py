"""Read-model fixtures: the workflows' real store and worker, and the API served over HTTP."""

from __future__ import annotations

from tests.api.conftest import api_url, client, engine, users  # noqa: F401
from tests.workflows.conftest import hub, infra, service  # noqa: F401
