"""The ``mashflow`` command: operators' and compliance officers' tool."""

from __future__ import annotations

import typer

from cli import (
    agencies_cmds,
    api_cmds,
    audit_cmds,
    consent_cmds,
    keys_cmds,
    policy_cmds,
    projections_cmds,
    requests_cmds,
    retention_cmds,
    share_cmds,
    stack_cmds,
    tasks_cmds,
    users_cmds,
)

app = typer.Typer(
    name="mashflow",
    help="Information sharing for multi-agency safeguarding hubs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
stack_cmds.register(app)
api_cmds.register(app)
users_cmds.register(app)
agencies_cmds.register(app)
audit_cmds.register(app)
projections_cmds.register(app)
requests_cmds.register(app)
share_cmds.register(app)
consent_cmds.register(app)
tasks_cmds.register(app)
retention_cmds.register(app)
policy_cmds.register(app)
keys_cmds.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
