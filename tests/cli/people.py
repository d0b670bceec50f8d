"""People for the CLI's tests: real users in the hub's directory, and their tokens.

The CLI's human steps act as the user whose token is in ``MASHFLOW_TOKEN`` (or a
``--token-file``); these make the users as ``mashflow users add`` does and put a
token in a subprocess's environment.
"""

from __future__ import annotations

import subprocess
import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.vocabulary import Role
from infra.users import IssuedToken, UserDirectory


async def person(
    engine: AsyncEngine, role: Role, agency: str | None = None, name: str | None = None
) -> IssuedToken:
    """A new active user with ``role`` (at ``agency``) and their token."""
    label = name or f"{role.value} {uuid.uuid4().hex[:6]}"
    return await UserDirectory(engine).add(label, role, agency)


def signed_in(env: dict[str, str], token: str | None) -> dict[str, str]:
    """``env`` with ``MASHFLOW_TOKEN`` set to ``token`` (or unset when None)."""
    without = {k: v for k, v in env.items() if k != "MASHFLOW_TOKEN"}
    return without if token is None else without | {"MASHFLOW_TOKEN": token}


def one_line_error(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """The CLI failed as a person should see it: exit ``code``, one ``error:`` line naming
    ``words``, no traceback."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    message = done.stderr.strip()
    assert message.startswith("error:") and "\n" not in message, message
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in message, message
