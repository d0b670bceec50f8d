"""People by name: the user directory as a map from user id (as the event log records
it) to the person's display name, for pages and records that must name people rather
than show ids."""

from __future__ import annotations

from infra.users import UserDirectory


async def names_by_id(users: UserDirectory) -> dict[str, str]:
    """Every user's display name by id, revoked users included (a record outlives an account)."""
    return {str(u.id): u.display_name for u in await users.list()}
