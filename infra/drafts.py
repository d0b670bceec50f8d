"""Answers in progress, kept on the server per person and form, sealed by the caller.

A draft is a :class:`~domain.events.Sealed` value (the answers as JSON, sealed under the
subject's key): this store never sees them in clear. Every read and write names the
user, so a person only ever reaches their own drafts; a draft older than ``MAX_AGE``
is not returned, and is deleted when that person next saves a draft.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import Sealed

MAX_AGE = timedelta(days=14)

_SAVE = text(
    "INSERT INTO form_drafts (user_id, form_key, sealed)"
    " VALUES (:user, :key, CAST(:sealed AS jsonb))"
    " ON CONFLICT (user_id, form_key) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()"
)
_LOAD = text(
    "SELECT sealed FROM form_drafts WHERE user_id = :user AND form_key = :key"
    " AND updated_at > now() - make_interval(secs => :age)"
)
_DROP = text("DELETE FROM form_drafts WHERE user_id = :user AND form_key = :key")
_PRUNE = text(
    "DELETE FROM form_drafts WHERE user_id = :user"
    " AND updated_at < now() - make_interval(secs => :age)"
)


class DraftStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(self, user_id: uuid.UUID, form_key: str, sealed: Sealed) -> None:
        params = {"user": user_id, "key": form_key, "sealed": sealed.model_dump_json()}
        async with self._engine.begin() as conn:
            await conn.execute(_SAVE, params)
            # The person's drafts past their age go as they save another.
            await conn.execute(_PRUNE, {"user": user_id, "age": MAX_AGE.total_seconds()})

    async def load(self, user_id: uuid.UUID, form_key: str) -> Sealed | None:
        params = {"user": user_id, "key": form_key, "age": MAX_AGE.total_seconds()}
        async with self._engine.connect() as conn:
            row = (await conn.execute(_LOAD, params)).one_or_none()
        if row is None:
            return None
        value = row.sealed if isinstance(row.sealed, dict) else json.loads(row.sealed)
        return Sealed.model_validate(value)

    async def drop(self, user_id: uuid.UUID, form_key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_DROP, {"user": user_id, "key": form_key})
