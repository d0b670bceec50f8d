"""Compliance fixtures: the session database's store, and fresh databases for tampering."""

from __future__ import annotations

from tests.api.conftest import (  # noqa: F401  (fixtures, used by name)
    agencies,
    api_url,
    client,
    engine,
    hub,
    users,
)
from tests.api.test_pages import browser  # noqa: F401  (a fixture)
from tests.eventstore.conftest import (  # noqa: F401  (fixtures, used by name)
    app_engine,
    fresh,
    keyring,
    store,
    template_db,
)
