"""Key events: the KEK's rotation, as the keys move from one KEK generation to the next.

KEK generations are named by ids (digests of derived keys, never the keys). The
rewraps are written by the database (migration 0015) in the transaction that moves
the keys; the start and the end by ``mashflow keys rotate-kek``. Stream ``keys:kek``
(an agency's own rewrap goes to ``agency:<code>``).
"""

from __future__ import annotations

from domain.events.base import Event, event

KEYS_STREAM = "keys:kek"


@event("keys.kek_rotation_started")
class KekRotationStarted(Event):
    """A rotation began, or resumed where an earlier run stopped."""

    from_kek: str
    to_kek: str
    subject_keys_left: int


@event("keys.subject_keys_rewrapped")
class SubjectKeysRewrapped(Event):
    """One batch of live subject keys now wrapped under ``to_kek``."""

    from_kek: str
    to_kek: str
    count: int


@event("keys.agency_key_rewrapped")
class AgencyKeyRewrapped(Event):
    agency: str
    from_kek: str
    to_kek: str


@event("keys.kek_rotation_completed")
class KekRotationCompleted(Event):
    """No live key is left under ``from_kek``: that KEK may be retired (docs/operations.md)."""

    from_kek: str
    to_kek: str
    subject_keys: int
    agency_keys: int
