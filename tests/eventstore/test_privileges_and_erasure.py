"""The app role's privileges, and crypto-shredding of a data subject."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from domain.events import ERASED, EventMetadata, Sealed
from infra.crypto import KeyDestroyed, Keyring, KeyringError
from infra.db import APP_ROLE, plain_url
from infra.eventstore import NEW_STREAM, EventStore, NewEvent
from infra.settings import Settings
from tests.conftest import TestDatabase as Database
from tests.eventstore.conftest import Fresh
from tests.eventstore.events import ThingHappened


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "DELETE FROM subject_keys",
        "UPDATE subject_keys SET kek_id = 'x'",
        "DELETE FROM projection_checkpoints",
    ],
)
async def test_the_app_role_cannot_change_history(database: Database, statement: str) -> None:
    conn = await asyncpg.connect(plain_url(database.admin_url))
    try:
        await conn.execute(f"SET ROLE {APP_ROLE}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_the_store_acts_as_the_app_role(store: EventStore) -> None:
    for _ in range(3):  # every checkout, not just a connection's first
        async with store.engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            assert await raw.fetchval("SELECT current_user") == APP_ROLE
        async with store.connections.acquire() as own:
            assert await own.fetchval("SELECT current_user") == APP_ROLE


async def test_sealed_values_open_for_their_subject_only(keyring: Keyring) -> None:
    subject, other = uuid.uuid4(), uuid.uuid4()
    sealed = await keyring.seal(subject, {"name": "Jo Bloggs", "dob": "2015-02-03"})
    assert await keyring.open(sealed) == {"name": "Jo Bloggs", "dob": "2015-02-03"}
    assert "Jo" not in repr(sealed) and "Jo" not in str(sealed)
    await keyring.seal(other, "x")
    moved = Sealed(subject_id=other, ct=sealed.ct)  # ciphertext copied under another subject
    with pytest.raises(Exception, match=str(other)):
        await keyring.open(moved)


async def test_concurrent_first_seals_agree_on_one_key(keyring: Keyring) -> None:
    import asyncio

    subject = uuid.uuid4()
    sealed = await asyncio.gather(*(keyring.seal(subject, i) for i in range(10)))
    assert [await keyring.open(s) for s in sealed] == list(range(10))


async def test_erasure_shreds_personal_data_and_keeps_the_trail(
    fresh: Fresh, settings: Settings
) -> None:
    canary = f"canary-{uuid.uuid4().hex}"
    subject, bystander = uuid.uuid4(), uuid.uuid4()
    store, keyring = fresh.store, fresh.keyring
    who = await keyring.seal(subject, {"name": canary})
    kept = await keyring.seal(bystander, {"name": "kept"})
    appended = await store.append(
        "request-1",
        NEW_STREAM,
        [
            NewEvent(uuid.uuid4(), ThingHappened(n=1, who=who), EventMetadata(actor_id="w")),
            NewEvent(uuid.uuid4(), ThingHappened(n=2, who=kept), EventMetadata(actor_id="w")),
        ],
    )
    before = await store.read_stream("request-1")
    await store.wait_visible(appended.positions[-1])  # so the checkpoint covers them
    checkpoint = await store.checkpoint()
    long_lived = Keyring.from_settings(store.engine, settings)  # as another process would
    assert await long_lived.open(who) == {"name": canary}

    await store.erase_subject(subject)
    await store.erase_subject(subject)  # idempotent

    after = await store.read_stream("request-1")
    assert [e.hash for e in after] == [e.hash for e in before]
    assert [e.event for e in after] == [e.event for e in before]  # ciphertext unchanged
    first = after[0].event
    assert isinstance(first, ThingHappened) and first.who is not None
    assert await long_lived.open(first.who) is ERASED
    assert await keyring.session().reveal(after[1].event) == {
        "n": 2,
        "note": "",
        "who": {"name": "kept"},
    }
    with pytest.raises(KeyDestroyed):
        await keyring.seal(subject, "new data")
    report = await store.verify(trusted_digest=checkpoint.digest)
    assert report.ok, report.findings
    assert await keyring.erased_at(subject) is not None

    conn = await fresh.admin()
    try:
        tables = await conn.fetch(
            "SELECT quote_ident(table_name) AS t FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        for row in tables:
            hits = await conn.fetchval(
                f"SELECT count(*) FROM {row['t']} x WHERE x::text LIKE $1", f"%{canary}%"
            )
            assert hits == 0, row["t"]
        assert await conn.fetchval(
            "SELECT wrapped_key IS NULL FROM subject_keys WHERE subject_id = $1", subject
        )
    finally:
        await conn.close()


async def test_a_session_never_outlives_its_scope_across_an_erase(keyring: Keyring) -> None:
    subject = uuid.uuid4()
    sealed = await keyring.seal(subject, "secret")
    session = keyring.session()
    assert await session.open(sealed) == "secret"
    await keyring.erase_subject(subject)
    assert await keyring.open(sealed) is ERASED  # a fresh read sees the erase at once
    assert await keyring.session().open(sealed) is ERASED


async def test_a_replay_with_a_key_session_loads_each_batchs_keys_in_one_query(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, keyring = fresh.store, fresh.keyring
    subjects = [uuid.uuid4() for _ in range(6)]
    sealed = [await keyring.seal(s, {"name": f"person {i}"}) for i, s in enumerate(subjects)]
    await store.erase_subject(subjects[0])
    # A subject no key was ever made for (a forged or foreign reference).
    forged = Sealed(subject_id=uuid.uuid4(), ct="A" * 40)
    values = [*sealed, forged]
    events = [ThingHappened(n=i, who=values[i % 7] if i % 3 else None) for i in range(30)]
    last = await store.append(
        "replay-keys",
        NEW_STREAM,
        [NewEvent(uuid.uuid4(), e, EventMetadata(actor_id="w")) for e in events],
    )
    await store.wait_visible(last.positions[-1])

    fetched: list[list[uuid.UUID]] = []
    real_fetch = keyring._fetch

    async def counting(subject_ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
        fetched.append(list(subject_ids))
        return await real_fetch(subject_ids)

    monkeypatch.setattr(keyring, "_fetch", counting)
    session = keyring.session()
    opened: list[object] = []
    misses = 0
    async for recorded in store.read_all(batch_size=8, keys=session):
        who = getattr(recorded.event, "who", None)
        if who is None:
            continue
        try:
            opened.append(session.open_loaded(who))
            continue
        except KeyError:
            misses += 1
        if who.subject_id == forged.subject_id:
            with pytest.raises(KeyringError, match="no key"):
                await session.open(who)
        else:
            opened.append(await session.open(who))

    assert opened == [
        ERASED if e.who.subject_id == subjects[0] else {"name": f"person {values.index(e.who)}"}
        for e in events
        if e.who is not None and e.who.subject_id != forged.subject_id
    ]
    # Each real subject's key was asked for once, by the first miss of its batch, which
    # brought the whole batch's keys (30 events in batches of 8: at most 4 such queries),
    # never one query per subject met.
    real = [ids for ids in fetched if set(ids) & set(subjects)]
    assert len(real) <= 4
    assert sorted(s for ids in real for s in ids if s in subjects) == sorted(subjects)
    assert misses < len(subjects) + sum(
        1 for e in events if e.who is not None and e.who.subject_id == forged.subject_id
    )


@pytest.mark.parametrize(
    "stream_id", ["a\nb", "tab\there", "esc\x1b[31m", "del\x7f", "", "x" * 201]
)
async def test_stream_ids_with_control_characters_are_refused_by_store_and_table(
    database: Database, store: EventStore, stream_id: str
) -> None:
    with pytest.raises(ValueError, match="control character"):
        await store.append(stream_id, NEW_STREAM, [NewEvent(uuid.uuid4(), ThingHappened(n=1))])
    conn = await asyncpg.connect(plain_url(database.admin_url))
    try:
        await conn.execute(f"SET ROLE {APP_ROLE}")
        # Straight past the store, as the app role: the column's domain refuses it too.
        with pytest.raises(asyncpg.CheckViolationError, match="event_name_valid"):
            await conn.fetch(
                "SELECT * FROM mashflow_append_one($1, 0, $2, 'test.thing_happened', 1, "
                "'{}', '{}')",
                stream_id,
                uuid.uuid4(),
            )
        stored = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream_id)
        assert stored == 0
    finally:
        await conn.close()


async def test_the_store_refuses_c1_controls_whatever_the_servers_locale(store: EventStore) -> None:
    # [[:cntrl:]] in the table's CHECK follows the server's locale (C1 controls are controls
    # under C.UTF-8, not under a C ctype); the store's own check does not depend on it.
    with pytest.raises(ValueError, match="control character"):
        await store.append("c1\x85", NEW_STREAM, [NewEvent(uuid.uuid4(), ThingHappened(n=1))])


async def test_stream_ids_may_hold_any_other_character(store: EventStore) -> None:
    stream_id = f'request:{uuid.uuid4()}:agency:Pólice "quoted" \\ back-slash é'
    await store.append(stream_id, NEW_STREAM, [NewEvent(uuid.uuid4(), ThingHappened(n=1))])
    [read] = await store.read_stream(stream_id)
    assert read.stream_id == stream_id
