"""Event types for the store's contract suite, registered under names only tests use."""

from __future__ import annotations

from domain.events import Event, Sealed, event


@event("test.thing_happened")
class ThingHappened(Event):
    n: int
    note: str = ""
    who: Sealed | None = None


@event("test.pair_recorded")
class PairRecorded(Event):
    """Two sealed values in one event (a value moved between them must not open)."""

    left: Sealed
    right: Sealed
