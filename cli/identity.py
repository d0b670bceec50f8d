"""Who takes a human step from the command line: the user whose token the CLI holds.

``mashflow requests open``, ``mashflow tasks``, ``mashflow retention`` and a
``--reveal`` of ``mashflow history`` or ``mashflow export`` act as a person. The
person's token comes from the environment variable ``MASHFLOW_TOKEN`` or, for
scripts, from ``--token-file PATH`` (a file holding only the token, readable by
its owner alone); never from an argument, which ``ps`` and shell histories keep.
It is checked by the API's own :class:`infra.auth.Authenticator` (directory
tokens from ``mashflow users add``, and OIDC tokens when the hub is configured
for them) and the :class:`domain.models.Actor` recorded on every event is the
API's (:func:`app.identity.actor_of`): the user's id, and the role
and agency the register holds for them. Nothing is written before that.

Exit codes here: 5 not signed in (no token, or one that is not valid or has
been revoked), 2 a ``--token-file`` that cannot be read, 3 signed in but
refused (a role the command is not for, an account the hub cannot act for).
Messages never repeat the token.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from app.container import Infrastructure
from app.identity import actor_of
from cli.common import EXIT_REFUSED, fail
from cli.directory_common import EXIT_USAGE
from domain.models import Actor
from domain.permissions import Action, allows, roles_for
from infra.auth import Forbidden, Unauthenticated

EXIT_UNAUTHENTICATED = 5
TOKEN_ENV = "MASHFLOW_TOKEN"  # noqa: S105 - the variable's name, not a secret

TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        metavar="PATH",
        help=f"A file holding your token (mode 0600), for scripts; otherwise ${TOKEN_ENV}.",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class Credential:
    """A token and where it came from (named in errors; the token itself never is)."""

    source: str
    token: str = field(repr=False)


def credential(token_file: Path | None) -> Credential:
    """The token from ``--token-file`` when given, else from ``MASHFLOW_TOKEN``."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(f"--token-file: cannot read {token_file}: {exc.strerror}", EXIT_USAGE)
        except UnicodeDecodeError:
            fail(f"--token-file: {token_file} does not hold a token", EXIT_USAGE)
        if not token:
            fail(f"--token-file: {token_file} is empty", EXIT_UNAUTHENTICATED)
        return Credential("--token-file", token)
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        fail(
            f"{TOKEN_ENV}: not set; set it to your token (or give --token-file PATH): "
            "an operator's `mashflow users add` prints a token",
            EXIT_UNAUTHENTICATED,
        )
    return Credential(TOKEN_ENV, token)


async def acting_user(
    infra: Infrastructure, cred: Credential, action: Action | None = None, *, doing: str
) -> Actor:
    """The signed-in user as the domain sees them, refused unless the permission matrix
    lets them take ``action`` (where one is given; the agency is checked by the step).

    ``doing`` names the step for the refusal ("opening a request").
    """
    try:
        who = actor_of(await infra.authenticator().bearer(cred.token))
    except Unauthenticated as exc:
        fail(f"{cred.source}: {exc}", EXIT_UNAUTHENTICATED)
    except Forbidden as exc:
        fail(str(exc), EXIT_REFUSED)
    if action is not None and not allows(who, action):
        names = " or ".join(sorted(r.value for r in roles_for(action)))
        fail(f"{doing} needs the {names} role; you are signed in as {who.role.value}", EXIT_REFUSED)
    return who
