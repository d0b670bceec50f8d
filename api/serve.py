"""How an API process is served: one uvicorn configuration for every way of serving it.

``mashflow api``, ``mashflow up`` and the tests all serve through :func:`server_config`,
so what they believe about a request's origin is the same: ``X-Forwarded-For`` and
``X-Forwarded-Proto`` only from the addresses in ``MASHFLOW_TRUSTED_PROXIES`` (none by
default, uvicorn's own default trusts 127.0.0.1). Otherwise any client could claim any
address and step round the sign-in limit.
"""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from infra.settings import Settings


def server_config(app: FastAPI, settings: Settings, host: str, port: int) -> uvicorn.Config:
    trusted = ",".join(settings.trusted_proxies)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # our structlog configuration formats uvicorn's loggers too
        server_header=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        lifespan="on",
    )
