"""What a request handler can reach: built once per app, in one place (:func:`build_services`).

Routes get these through :mod:`api.deps`; nothing here is global. When the
workflows arrive, their Temporal client and the application services that
wrap it are added as fields here and built in :func:`build_services`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.templating import Jinja2Templates
from temporalio.client import Client

from api.metrics import HttpMetrics
from api.sessions import SessionCodec
from app import timetext, wording
from app.packages import PackageService
from app.queries import Queries
from app.requests import RequestService
from domain.policy import DEFAULT_POLICY
from infra.auth import Authenticator, FailedSignIns, OidcVerifier
from infra.crypto import Keyring
from infra.directory import AgencyDirectory, UserDirectory
from infra.eventstore import EventStore
from infra.eventstore.anchor import DirectoryAnchor
from infra.packages import PackageRepository
from infra.settings import Settings

HealthCheck = Callable[[], Awaitable[None]]
"""An async probe that returns when its dependency is reachable and raises otherwise."""

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    agencies: AgencyDirectory
    users: UserDirectory
    authenticator: Authenticator
    sessions: SessionCodec
    templates: Jinja2Templates
    metrics: HttpMetrics
    queries: Queries
    """Reads of the read models (request lists, inboxes, response times)."""
    temporal: Client | None = None
    temporal_health: HealthCheck | None = None
    keyring: Keyring | None = None
    events: EventStore | None = None
    """The event store (its own connection pool; closed with the app)."""
    requests: RequestService | None = None
    """Commands on sharing requests (only with a Temporal client)."""
    packages: PackageService | None = None
    """The recipient's side of secure transfer (only with a Temporal client)."""


def build_services(
    settings: Settings,
    engine: AsyncEngine,
    metrics: HttpMetrics,
    *,
    temporal: Client | None = None,
    temporal_health: HealthCheck | None = None,
) -> Services:
    kek = settings.key_encryption_key()
    agencies = AgencyDirectory(engine, kek)
    users = UserDirectory(engine)
    oidc = OidcVerifier(settings) if settings.oidc_enabled else None
    keyring = Keyring(engine, kek)
    if temporal_health is None and temporal is not None:
        client = temporal

        async def temporal_health() -> None:
            await client.service_client.check_health()

    events = EventStore(
        engine, keyring=keyring, anchor=DirectoryAnchor(settings.checkpoint_anchor_dir())
    )
    requests: RequestService | None = None
    packages: PackageService | None = None
    if temporal is not None:
        requests = RequestService(temporal, keyring, agencies, settings.temporal_task_queue)
        packages = PackageService(requests, PackageRepository(engine), agencies, settings, events)

    return Services(
        settings=settings,
        engine=engine,
        agencies=agencies,
        users=users,
        authenticator=Authenticator(
            users,
            agencies,
            oidc,
            FailedSignIns(settings.signin_failure_limit, settings.signin_failure_window_s),
        ),
        sessions=SessionCodec(kek, max_age_s=settings.session_max_age_s),
        templates=make_templates(),
        metrics=metrics,
        queries=Queries(engine),
        temporal=temporal,
        temporal_health=temporal_health,
        keyring=keyring,
        events=events,
        requests=requests,
        packages=packages,
    )


def make_templates(zone: str = DEFAULT_POLICY.calendar.timezone) -> Jinja2Templates:
    """Every page's templates. Deadlines are shown on the hub's clock (``zone``, its
    working calendar's): ``{{ due|local_time }}`` and ``{{ time_left(due, now) }}``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local_time"] = functools.partial(timetext.local_time, zone=zone)
    env.globals["time_left"] = timetext.time_left
    env.filters["with_article"] = wording.with_article
    return Jinja2Templates(env=env)


def new_metrics() -> HttpMetrics:
    return HttpMetrics(CollectorRegistry(auto_describe=True))
