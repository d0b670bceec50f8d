"""``mashflow users add | list | change | revoke``: the people who may sign in."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from app.wording import count
from cli.common import console, err_console, fail, run, settings_or_exit
from cli.directory_common import EXIT_USAGE, open_directory, print_json
from domain.permissions import HUB_ROLES
from domain.vocabulary import Role
from infra.users import PERSON_ROLES, User, role_names

users_app = typer.Typer(help="People who sign in: add, list, change, revoke.", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": str(user.id),
        "name": user.display_name,
        "role": user.role.value,
        "agency": user.agency,
        "sign_in": "oidc" if user.oidc_subject else "token",
        "created_at": user.created_at.isoformat(),
        "revoked_at": user.revoked_at.isoformat() if user.revoked_at else None,
    }


def _role(value: str) -> Role:
    if value not in {r.value for r in PERSON_ROLES}:
        fail(f"--role: must be one of {role_names()}", EXIT_USAGE)
    return Role(value)


@users_app.command("add")
def add(
    name: Annotated[str, typer.Option("--name", help="Display name, as colleagues know them.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {role_names()}.")],
    agency: Annotated[
        str | None,
        typer.Option("--agency", help="Agency code; not needed for hub roles."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a user and print their access token (shown this once only)."""
    parsed = _role(role)
    if agency is None and parsed not in HUB_ROLES:
        fail(f"--agency: the {parsed.value} role acts for an agency; give its code", EXIT_USAGE)
    settings = settings_or_exit()

    async def go() -> None:
        async with open_directory(settings) as directory:
            issued = await directory.users.add(name, parsed, agency)
        warning = (
            "[bold yellow]warning:[/] the token is shown this once: give it to the user "
            "over a secure channel. It cannot be recovered, only revoked."
        )
        err_console.print(warning, highlight=False)
        if as_json:
            print_json({"user": user_json(issued.user), "token": issued.token})
            return
        where = f", {issued.user.agency}" if issued.user.agency else ""
        console.print(f"added user {issued.user.id} ({issued.user.role.value}{where})")
        console.print(f"token: {issued.token}", highlight=False, soft_wrap=True)

    run(go())


@users_app.command("list")
def list_users(
    active: Annotated[bool, typer.Option("--active", help="Hide revoked users.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List users (never their tokens)."""
    settings = settings_or_exit()

    async def go() -> None:
        async with open_directory(settings) as directory:
            users = await directory.users.list(include_revoked=not active)
        if as_json:
            print_json([user_json(u) for u in users])
            return
        table = Table(title=count(len(users), "user"))
        for column in ("id", "name", "role", "agency", "sign-in", "status"):
            table.add_column(column)
        for u in users:
            status = f"revoked {u.revoked_at:%Y-%m-%d %H:%M}" if u.revoked_at else "active"
            table.add_row(
                str(u.id),
                u.display_name,
                u.role.value,
                u.agency or "(hub)",
                "oidc" if u.oidc_subject else "token",
                status,
            )
        console.print(table)

    run(go())


@users_app.command("revoke")
def revoke(
    user_id: Annotated[str, typer.Argument(metavar="ID", help="The user's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke a user: their token and sessions stop working at once. Nothing is deleted."""
    try:
        parsed = uuid.UUID(user_id)
    except ValueError:
        fail("ID: not a user id (a UUID, as 'mashflow users list' shows)", EXIT_USAGE)
    settings = settings_or_exit()

    async def go() -> None:
        async with open_directory(settings) as directory:
            user = await directory.users.revoke(parsed)
        if as_json:
            print_json(user_json(user))
        else:
            console.print(f"revoked user {user.id}")

    run(go())


@users_app.command("change")
def change(
    user_id: Annotated[str, typer.Argument(metavar="ID", help="The user's id.")],
    role: Annotated[str, typer.Option("--role", help=f"One of: {role_names()}.")],
    agency: Annotated[
        str | None,
        typer.Option("--agency", help="Agency code; not needed for hub roles."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Give an active user another role or agency. Recorded in the event log
    (``register.user_role_changed``); a revoked user's role never changes."""
    try:
        parsed = uuid.UUID(user_id)
    except ValueError:
        fail("ID: not a user id (a UUID, as 'mashflow users list' shows)", EXIT_USAGE)
    new_role = _role(role)
    if agency is None and new_role not in HUB_ROLES:
        fail(f"--agency: the {new_role.value} role acts for an agency; give its code", EXIT_USAGE)
    settings = settings_or_exit()

    async def go() -> None:
        async with open_directory(settings) as directory:
            user = await directory.users.change(parsed, new_role, agency)
        if as_json:
            print_json(user_json(user))
        else:
            where = f", {user.agency}" if user.agency else ""
            console.print(f"user {user.id} is now {user.role.value}{where}")

    run(go())
