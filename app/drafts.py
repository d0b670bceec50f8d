"""A person's answers in progress, kept on the server, sealed under the subject's key.

A step asked one question per page (a question flow: the decision, the assessment of the
purpose) keeps what has been answered so far as a draft (a mapping of field name to what
was typed). It is sealed before it is stored
(:class:`infra.drafts.DraftStore` only ever sees ciphertext), so it is as protected as
the event log and unreadable once the subject's key is destroyed. A draft belongs to one
person and one form (``form_key``, say ``purpose:<request>:<agency>``): signing in again
finds it as it was, which is how a draft is restored after a session ends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.events import Erased
from infra.crypto import Keyring
from infra.drafts import DraftStore

DRAFTS = uuid5(NAMESPACE_URL, "urn:mashflow:drafts")

KEPT_PAGES = re.compile(
    r"^/(requests/new|tasks/[0-9a-fA-F-]{36}:[a-z0-9_]{2,40}:[a-z_]{1,40}:\d{1,9}"
    r"(/(basis|items|[a-z][a-z-]{0,19}/[a-z][a-z-]{0,29}))?"
    r"|requests/[0-9a-fA-F-]{36}/agencies/[a-z][a-z0-9_]{1,39}/consent-withdrawal)$"
)
"""The pages whose form is kept for signing in again: the new request, each task page,
the record-decision task's basis and items pages, each question page of a flow
(``/tasks/<id>/<flow>/<question>``) and the form recording that consent was withdrawn."""


def flow_key(flow: str, request_id: UUID, agency: str) -> str:
    """The answers so far to one question flow on one agency's decision. The decision's
    flow is ``decision``, so its key is ``decision:<request>:<agency>`` as it always was."""
    return f"{flow}:{request_id}:{agency}"


def page_key(path: str) -> str:
    """A page form's draft, by the page's path (``/requests/new``, ``/tasks/<id>``)."""
    return f"page:{path}"


def own_key(user_id: UUID | str) -> UUID:
    """The key a draft with no subject yet (a new request) is sealed under: the person's
    own, so only they can open it and it is destroyed with their drafts."""
    return uuid5(DRAFTS, str(user_id))


class Drafts:
    def __init__(self, store: DraftStore, keyring: Keyring) -> None:
        self.store = store
        self.keyring = keyring

    async def load(self, user_id: UUID | str, form_key: str) -> dict[str, Any]:
        """The answers so far (empty when there is no draft, or it can no longer be opened)."""
        sealed = await self.store.load(UUID(str(user_id)), form_key)
        if sealed is None:
            return {}
        value = await self.keyring.open(sealed)
        return dict(value) if isinstance(value, dict) and not isinstance(value, Erased) else {}

    async def save(
        self,
        user_id: UUID | str,
        form_key: str,
        subject_id: UUID | None,
        answers: Mapping[str, Any],
    ) -> None:
        """Keep ``answers``, sealed under the subject's key (or the person's own, for a
        form about nobody known yet)."""
        key = subject_id if subject_id is not None else own_key(user_id)
        sealed = await self.keyring.seal(key, dict(answers))
        await self.store.save(UUID(str(user_id)), form_key, sealed)

    async def update(
        self, user_id: UUID | str, form_key: str, subject_id: UUID, answers: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The draft with ``answers`` added (replacing earlier answers to the same fields)."""
        merged = {**await self.load(user_id, form_key), **answers}
        await self.save(user_id, form_key, subject_id, merged)
        return merged

    async def take(self, user_id: UUID | str, form_key: str) -> dict[str, Any]:
        """The draft, removed: a page restores it once."""
        answers = await self.load(user_id, form_key)
        if answers:
            await self.drop(user_id, form_key)
        return answers

    async def drop(self, user_id: UUID | str, form_key: str) -> None:
        await self.store.drop(UUID(str(user_id)), form_key)
