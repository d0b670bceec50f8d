"""Custom search attributes: find a request's workflows by rating, agency and deadline.

Operators list workflows in the Temporal UI or CLI with queries such as
``MashflowRating = "red"``, ``MashflowAgencies = "police"``, ``MashflowOverdue = true``
or ``MashflowDueAt < "2030-01-01T00:00:00Z" AND ExecutionStatus = "Running"``.
Search attributes are stored in clear by Temporal, so they hold no personal data:
a rating, agency codes from the register, an instant and a flag, nothing else.

Every attribute must be registered on the namespace before a workflow upserts it
(``infra.search_attributes``, which names the same four: the dev server's
``--search-attribute`` flags, or ``temporal operator search-attribute create`` on a
cluster; docs/operations.md).

Workflow code only (deterministic): :class:`SearchAttributes` upserts only the values
that changed since its last upsert, so a history carries one upsert command per change.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

RATING = SearchAttributeKey.for_keyword("MashflowRating")
"""The request's urgency rating: red, amber or green."""

AGENCIES = SearchAttributeKey.for_keyword_list("MashflowAgencies")
"""Agency codes: the requesting agency and the holding agency (or agencies)."""

DUE_AT = SearchAttributeKey.for_datetime("MashflowDueAt")
"""When the next step is due (the request: its decision deadline; a decision: the
earliest deadline of a step still waiting). Unset once nothing is due."""

OVERDUE = SearchAttributeKey.for_bool("MashflowOverdue")
"""A decision: a step still waiting has missed its deadline."""

PATCH = "search-attributes"
"""Patch: the workflows upsert their search attributes (histories before it have none)."""


class SearchAttributes:
    """The attributes one workflow last upserted; upserts only what changed."""

    def __init__(self) -> None:
        self._last: dict[str, Any] = {}

    def set(
        self,
        *,
        rating: str,
        agencies: Sequence[str],
        due_at: datetime | None,
        overdue: bool | None = None,
    ) -> None:
        wanted: list[tuple[SearchAttributeKey[Any], Any]] = [
            (RATING, rating),
            (AGENCIES, list(agencies)),
            (DUE_AT, due_at),
        ]
        if overdue is not None:
            wanted.append((OVERDUE, overdue))
        updates: list[SearchAttributeUpdate[Any]] = []
        for key, value in wanted:
            if key.name in self._last and self._last[key.name] == value:
                continue
            if value is None and key.name not in self._last:
                continue  # never set: nothing to unset
            updates.append(key.value_unset() if value is None else key.value_set(value))
            self._last[key.name] = value
        if updates:
            workflow.upsert_search_attributes(updates)
