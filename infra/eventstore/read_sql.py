"""The SQL the event store reads with (``store``): a stream, a request, the log in
batches below the horizon, and the events of some types."""

from __future__ import annotations

from infra.eventstore.rows import CHAINED_SQL, HORIZON, READ_COLUMNS

# SQL below is assembled from module constants only, never from input: hence the noqa S608.
STREAM_SQL = (
    f"SELECT {READ_COLUMNS} FROM events "  # noqa: S608
    "WHERE stream_id = $1 AND version >= $2 ORDER BY version"
)
CORRELATION_SQL = (
    f"SELECT {READ_COLUMNS} FROM events "  # noqa: S608
    "WHERE correlation_id = $1 ORDER BY position"
)
ALL_SQL = (
    f"SELECT {READ_COLUMNS} FROM events "  # noqa: S608
    f"WHERE position > $1 AND position < {HORIZON} "
    "ORDER BY position LIMIT {limit:d}"
)
"""The limit is inlined, not a parameter: with ``LIMIT $2`` PostgreSQL's generic plan for
the prepared statement (used after five runs) guesses a tenth of the table and picks a
sequential scan and sort, turning every row's jsonb into text on each batch."""

TYPES_SQL = (
    f"SELECT {READ_COLUMNS} FROM events "  # noqa: S608
    "WHERE position > $1 AND position < $2 AND event_type = ANY($3::text[]) "
    "ORDER BY position LIMIT {limit:d}"
)
"""Events of some types in a settled range: the position index's range, filtered on the
server, so a follower of a few types never receives (or decodes) the rest of the log."""

ALL_ARRAYS_SQL = (
    "SELECT array_agg(p), array_agg(c), array_agg(h) FROM ("  # noqa: S608
    f"SELECT position AS p, {CHAINED_SQL} AS c, hash AS h FROM events "
    f"WHERE position > $1 AND position < {HORIZON} "
    "ORDER BY position LIMIT {limit:d}) AS batch"
)
"""The rows of ALL_SQL as one row of three arrays (positions, chained bytes, hashes).
asyncpg's client cost per event falls from about 2.5-3 µs (a Record per row) to about
1 µs (array elements), measured on 100,000 rows; the server adds only the aggregate
(measured: grouping into one row per slice instead, with a window and a sort, cost the
server more than the client saved). The aggregate keeps the order of its sorted input,
which PostgreSQL does not promise for an aggregate without its own ORDER BY: the client
checks it (see ``_slices``) rather than pay three sorts for it."""

RANGE_ARRAYS_SQL = (
    "SELECT array_agg(p), array_agg(c), array_agg(h) FROM ("  # noqa: S608
    f"SELECT position AS p, {CHAINED_SQL} AS c, hash AS h FROM events "
    "WHERE position > $1 AND position < $2 "
    "ORDER BY position LIMIT {limit:d}) AS batch"
)
"""As ALL_ARRAYS_SQL below a horizon the caller read first (``read_batch``), so it knows
how far the read covered."""
