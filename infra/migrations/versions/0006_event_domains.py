"""The event table's column rules as domains instead of table CHECK constraints.

Revision ID: 0006_event_domains
Revises: 0005_readmodels_erasure

The rules are unchanged: a stream id or event type is 1 to 200 characters with no
control character, versions and schema versions count from 1, and both hashes are
32 bytes. Only where PostgreSQL keeps them changes. A table's CHECK constraints are
stored as text and parsed and planned again by every INSERT statement. A domain's
constraints are cached by the backend once, already planned. Measured on one
connection with commits not flushed, alternated with the other variants:

- an INSERT into a copy of ``events`` cost 11-16 µs more with the six CHECKs than
  without them;
- the same copy with the rules as domains cost 4-5 µs more than without them;

out of 110-130 µs such an INSERT costs in all (docs/performance.md, "Appends").

No table rewrite. The domains are created without constraints, so changing the
columns' types is a relabelling: the table and its indexes keep their files. The
old CHECKs are dropped by the same statement. The domains then get their
constraints, which ``VALIDATE`` checks against every stored row in one read-only
scan; the old CHECKs guaranteed those rows already. All of it is one transaction,
so no row is ever written while neither rule holds.
"""

from __future__ import annotations

from alembic import op

revision: str = "0006_event_domains"
down_revision: str | None = "0005_readmodels_erasure"
branch_labels: str | None = None
depends_on: str | None = None

NAME_RULE = "VALUE <> '' AND VALUE !~ '[[:cntrl:]]' AND length(VALUE) <= 200"
ORDINAL_RULE = "VALUE >= 1"
DIGEST_RULE = "octet_length(VALUE) = 32"

DOMAINS = (
    # domain, base type, constraint name, rule
    ("event_name", "text", "event_name_valid", NAME_RULE),
    ("event_ordinal", "integer", "event_ordinal_valid", ORDINAL_RULE),
    ("event_digest", "bytea", "event_digest_valid", DIGEST_RULE),
)

COLUMNS = (
    # column, domain, the CHECK 0001 gave it (PostgreSQL's name), that CHECK's rule
    ("stream_id", "event_name", "events_stream_id_check", NAME_RULE),
    ("event_type", "event_name", "events_event_type_check", NAME_RULE),
    ("version", "event_ordinal", "events_version_check", ORDINAL_RULE),
    ("schema_version", "event_ordinal", "events_schema_version_check", ORDINAL_RULE),
    ("prev_hash", "event_digest", "events_prev_hash_check", DIGEST_RULE),
    ("hash", "event_digest", "events_hash_check", DIGEST_RULE),
)


def upgrade() -> None:
    for domain, base, _, _ in DOMAINS:
        op.execute(f"CREATE DOMAIN {domain} AS {base}")
    changes = [f"DROP CONSTRAINT {check}" for _, _, check, _ in COLUMNS]
    changes += [f"ALTER COLUMN {column} TYPE {domain}" for column, domain, _, _ in COLUMNS]
    op.execute(f"ALTER TABLE events {', '.join(changes)}")
    for domain, _, constraint, rule in DOMAINS:
        op.execute(f"ALTER DOMAIN {domain} ADD CONSTRAINT {constraint} CHECK ({rule}) NOT VALID")
        op.execute(f"ALTER DOMAIN {domain} VALIDATE CONSTRAINT {constraint}")


def downgrade() -> None:
    base_of = {domain: base for domain, base, _, _ in DOMAINS}
    changes = [f"ALTER COLUMN {column} TYPE {base_of[domain]}" for column, domain, _, _ in COLUMNS]
    changes += [
        f"ADD CONSTRAINT {check} CHECK ({rule.replace('VALUE', column)})"
        for column, _, check, rule in COLUMNS
    ]
    op.execute(f"ALTER TABLE events {', '.join(changes)}")
    for domain, _, _, _ in DOMAINS:
        op.execute(f"DROP DOMAIN {domain}")
