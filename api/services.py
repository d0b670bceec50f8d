"""What a request handler can reach: built once per app from the composition root.

Routes get these through :mod:`api.deps`; nothing here is global. The
database side, the Temporal client and the application services come from
:class:`app.container.Container`; the API adds only what is its own (sessions,
templates, metrics, the authenticator with its failed sign-in counter).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.templating import Jinja2Templates
from temporalio.client import Client

from api.metrics import HttpMetrics
from api.sessions import SessionCodec
from api.web_sessions import SessionStore
from app import record_words, timetext, wording
from app.container import Container
from app.drafts import Drafts
from app.packages import PackageService
from app.queries import Queries
from app.request_timeline import on_hub_clock
from app.requests import RequestService
from app.retention import RetentionService
from app.templating import environment
from domain.policy import DEFAULT_POLICY
from infra.auth import Authenticator
from infra.crypto import Keyring
from infra.directory import AgencyDirectory
from infra.drafts import DraftStore
from infra.eventstore import EventStore
from infra.oidc_client import OidcClient
from infra.settings import Settings
from infra.users import UserDirectory

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: AsyncEngine
    agencies: AgencyDirectory
    users: UserDirectory
    authenticator: Authenticator
    sessions: SessionCodec
    """Signed CSRF cookies before sign-in."""
    web_sessions: SessionStore
    """Signed-in web sessions, kept in the database."""
    templates: Jinja2Templates
    metrics: HttpMetrics
    queries: Queries
    """Reads of the read models (request lists, inboxes, response times)."""
    temporal: Client
    keyring: Keyring
    events: EventStore
    requests: RequestService
    """Commands on sharing requests."""
    packages: PackageService
    """The recipient's side of secure transfer."""
    retention: RetentionService
    """The retention review queue and its decisions."""
    drafts: Drafts
    """Answers in progress (the decision's questions), sealed, per person and form."""
    oidc: OidcClient | None
    """The pages' sign-in through the identity provider, where configured."""


def build_services(container: Container, metrics: HttpMetrics) -> Services:
    infra = container.infra
    return Services(
        settings=infra.settings,
        engine=infra.engine,
        agencies=infra.agencies,
        users=infra.users,
        authenticator=infra.authenticator(),
        sessions=SessionCodec(
            infra.settings.key_encryption_key(), max_age_s=infra.settings.session_max_age_s
        ),
        web_sessions=SessionStore(
            infra.engine,
            max_age_s=infra.settings.session_max_age_s,
            idle_timeout_s=infra.settings.session_idle_timeout_s,
        ),
        templates=make_templates(infra.settings.hub_policy().calendar.timezone),
        metrics=metrics,
        queries=infra.queries,
        temporal=container.temporal,
        keyring=infra.keyring,
        events=infra.store,
        requests=container.requests,
        packages=container.packages,
        retention=container.retention,
        drafts=Drafts(DraftStore(infra.engine), infra.keyring),
        oidc=OidcClient(infra.settings, infra.engine) if infra.settings.oidc_web_sign_in else None,
    )


def make_templates(zone: str = DEFAULT_POLICY.calendar.timezone) -> Jinja2Templates:
    """Every page's templates. Deadlines are shown on the hub's clock (``zone``, its
    working calendar's): ``{{ due|local_time }}`` and ``{{ time_left(due, now) }}``, and a
    sentence's UTC times with ``{{ sentence|hub_clock }}``."""
    env = environment(TEMPLATES)
    env.filters["local_time"] = functools.partial(timetext.local_time, zone=zone)
    env.filters["hub_clock"] = functools.partial(on_hub_clock, zone=zone)
    env.globals["time_left"] = timetext.time_left
    env.filters["with_article"] = wording.with_article
    env.globals["record_lines"] = record_words.record_lines
    env.globals["details_lines"] = record_words.details_lines
    env.globals["named"] = record_words.named
    return Jinja2Templates(env=env)


def new_metrics() -> HttpMetrics:
    return HttpMetrics(CollectorRegistry(auto_describe=True))
