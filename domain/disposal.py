"""Whether a record may be disposed of: the log, not only the review, must make it due.

Disposal destroys a subject's key, so before it happens the reviewed record is
checked against the request's events as ``domain.retention.records_due`` reads
them, with the review itself not yet opened: a record of a request still open,
a record already disposed of, or an erased subject is not due, whatever review
was put forward.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from uuid import UUID

from domain.events.base import Event
from domain.events.catalogue import RetentionReviewOpened
from domain.policy import RetentionPolicy
from domain.retention import records_due
from domain.vocabulary import RecordType


def disposal_due(
    events: Iterable[Event],
    review_id: UUID,
    record_type: RecordType,
    due_on: date,
    policy: RetentionPolicy,
    *,
    subject_born_on: date | None = None,
) -> bool:
    """Whether ``events`` make ``record_type`` due for review on ``due_on``."""
    others = [
        e for e in events if not (isinstance(e, RetentionReviewOpened) and e.review_id == review_id)
    ]
    found = records_due(others, due_on, policy, subject_born_on=subject_born_on)
    return any(r.record_type is record_type for r in found)
