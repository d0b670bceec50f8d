"""Every command of the API, driven by Hypothesis from the API's own OpenAPI document.

Bodies follow the published schemas with hostile values mixed in at any depth (see
:mod:`tests.api.openapi_strategies`); path ids are real, unknown or malformed; callers are
people of every role. Whatever is sent, the answer is never a 5xx, and a 4xx leaves every
table that holds what people write (events, subject keys, the register, packages, users)
exactly as it was.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.decision import TaskKind
from tests.api.openapi_strategies import Builder
from tests.api.stack import Stack
from tests.api.test_requests_flow import open_request

T = TypeVar("T")

WRITTEN = (
    "events",
    "subject_keys",
    "agencies",
    "information_sharing_protocols",
    "packages",
    "users",
)
AGENCY_PATTERN = "^[a-z][a-z0-9_]{1,39}$"
EXAMPLES = 200

# Which of the stack's people each command is for; any other person is also tried.
CALLERS = {
    "/api/requests": "coordinator",
    "/api/agencies": "coordinator",
    "/api/protocols": "coordinator",
    "/api/audit/verify": "compliance",
    "/api/requests/{request_id}/withdraw": "coordinator",
    "/api/requests/{request_id}/rating": "coordinator",
    "/api/tasks/{task_id}": "worker",
    "/api/packages/{package_id}/acknowledge": "recipient",
    "/api/packages/{package_id}/revoke": "worker",
}


async def _written(engine: AsyncEngine) -> tuple[int, ...]:
    async with engine.connect() as conn:
        counts = []
        for table in WRITTEN:
            row = await conn.execute(sa.text(f"SELECT count(*) FROM {table}"))
            counts.append(int(row.scalar_one()))
        return tuple(counts)


async def test_no_input_yields_a_5xx_and_a_4xx_writes_nothing(
    stack: Stack, engine: AsyncEngine
) -> None:
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        spec = (await http.get("/openapi.json")).json()
        rid = await open_request(http, stack)
        task = await stack.task_id(rid, stack.holder, TaskKind.ASSESS_PURPOSE)

    def on_loop(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

    def settled() -> tuple[int, ...]:
        """The tables' counts once background work of an accepted command has finished."""
        last = on_loop(_written(engine))
        for _ in range(40):
            time.sleep(0.25)
            now = on_loop(_written(engine))
            if now == last:
                return now
            last = now
        return last

    builder = Builder(spec, known={AGENCY_PATTERN: [stack.holder, stack.requester, stack.other]})
    operations = [
        (path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method == "post" and path in CALLERS
    ]
    assert {path for path, _ in operations} == set(CALLERS), "a command the test does not know"
    ids = {
        "request_id": st.sampled_from([rid, str(uuid.uuid4()), "not-a-request", "0" * 36]),
        "task_id": st.sampled_from(
            [task, f"{uuid.uuid4()}:{stack.holder}:assess_purpose:1", task + "x", "x:y:z:1"]
        ),
        "package_id": st.sampled_from([str(uuid.uuid4()), "nope"]),
    }
    people = sorted(stack.people)

    @st.composite
    def calls(draw: st.DrawFn) -> tuple[str, str, bytes | None]:
        path, op = draw(st.sampled_from(operations))
        for name, values in ids.items():
            path = path.replace(f"{{{name}}}", draw(values))
        who = draw(st.one_of(st.just(CALLERS[path_of(op, operations)]), st.sampled_from(people)))
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        shape = draw(st.integers(0, 19))
        if shape == 0:
            return path, who, b'{"truncated": '
        if shape == 1:
            return path, who, None
        body = draw(builder.body(schema, hostile=shape > 4))
        return path, who, json.dumps(body).encode()

    state: dict[str, tuple[int, ...]] = {}
    outcomes: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(calls())
    def check(call: tuple[str, str, bytes | None]) -> None:
        path, who, content = call
        headers = stack.people[who].headers | {"content-type": "application/json"}
        with httpx.Client(base_url=stack.url, timeout=60) as client:
            response = client.post(path, content=content, headers=headers)
        outcomes[response.status_code] = outcomes.get(response.status_code, 0) + 1
        assert response.status_code < 500, (path, who, content, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
            after = on_loop(_written(engine))
            assert after == state["counts"], (path, who, content, response.status_code)
        else:
            state["counts"] = settled()

    def run() -> None:
        state["counts"] = settled()
        check()

    await asyncio.to_thread(run)
    assert sum(n for code, n in outcomes.items() if code < 300) > 0, outcomes
    assert outcomes.get(422, 0) > EXAMPLES // 3, outcomes


def path_of(op: dict[str, Any], operations: list[tuple[str, dict[str, Any]]]) -> str:
    return next(path for path, candidate in operations if candidate is op)
