"""The production topology, as separate OS processes: a Temporal dev server on its own,
the test PostgreSQL, two ``mashflow worker`` and two ``mashflow api`` processes.

Requests are opened through one API and decided through the other; one worker is
SIGKILLed mid-way. Every request finishes, and its log holds every step exactly once:
no event missing, none written twice, every stream's versions whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from app.container import open_infrastructure
from domain.vocabulary import AgencyKind, Role
from infra.stack import EmbeddedTemporal, free_port
from infra.users import UserDirectory
from tests.api.test_requests_flow import ITEMS
from tests.conftest import TEST_KEK

if TYPE_CHECKING:
    from tests.conftest import TestDatabase

pytestmark = pytest.mark.timeout(300)

REQUESTS = 3
ONCE = (
    "request.opened",
    "purpose.assessed",
    "consent.sought",
    "consent.recorded",
    "advice.requested",
    "advice.given",
    "decision.recorded",
    "package.sent",
    "package.opened",
    "package.acknowledged",
    "agency_decision.completed",
    "request.closed",
)


@contextlib.contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        made = subprocess.Popen(
            [sys.executable, "-m", "cli.main", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield made
    finally:
        kill(made)


def kill(made: subprocess.Popen[bytes]) -> None:
    if made.poll() is None:
        os.killpg(made.pid, signal.SIGKILL)
        made.wait(timeout=10)


async def ready(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} never ready")


class TwoApis:
    def __init__(self, a: httpx.AsyncClient, b: httpx.AsyncClient, tokens: dict[str, str]):
        self.a, self.b, self.tokens = a, b, tokens

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def task(self, who: str, rid: str, kind: str) -> str:
        """The task's id as ``who``'s inbox lists it (through API b)."""
        for _ in range(300):
            inbox = (await self.b.get("/api/tasks", headers=self.as_(who))).json()["tasks"]
            for t in inbox:
                if t["request_id"] == rid and t["kind"] == kind:
                    return str(t["task_id"])
            await asyncio.sleep(0.1)
        raise AssertionError(f"no {kind} task for {rid}")

    async def act(self, who: str, task: str, body: dict[str, Any]) -> dict[str, Any]:
        done = await self.b.post(f"/api/tasks/{task}", json=body, headers=self.as_(who))
        assert done.status_code == 200, done.text
        return dict(done.json())


async def walk(hub: TwoApis, rid: str) -> None:
    """A worker and an advisor share without consent, through API b; the recipient opens
    and acknowledges the package through API a."""
    task = await hub.task("worker", rid, "assess_purpose")
    await hub.act("worker", task, {
        "action": "assess_purpose", "purpose_clear": True, "identifiable": True,
        "confidential": True, "special_category": False,
    })  # fmt: skip
    task = await hub.task("worker", rid, "resolve_consent")
    for body in (
        {"action": "seek_consent"},
        {"action": "record_consent", "outcome": "refused"},
        {"action": "request_advice", "question": "Is sharing without consent justified?"},
    ):
        await hub.act("worker", task, body)
    task = await hub.task("advisor", rid, "give_advice")
    await hub.act("advisor", task, {
        "action": "give_advice", "recommendation": "share",
        "agrees_to_share_without_consent": True, "advice": "Significant harm: share",
        "capacity": "caldicott_guardian", "position": "Named lead for safeguarding",
    })  # fmt: skip
    task = await hub.task("worker", rid, "record_decision")
    deciding: tuple[dict[str, Any], ...] = (
        {"action": "determine_lawful_basis", "art6": "public_task",
         "legal_power": "Crime and Disorder Act 1998 s.115",
         "without_consent": "significant_harm_to_child"},
        {"action": "select_information", "items": ITEMS},
        {"action": "record_decision", "outcome": "share", "reasons": "Bears on the child's safety",
         "necessity": "Only the recent incident",
         "inform": {"will_inform": False, "reason_not": "would_put_someone_at_risk"}},
    )  # fmt: skip
    for step in deciding:
        await hub.act("worker", task, step)
    recipient = hub.as_("recipient")
    for _ in range(600):
        listed = (await hub.a.get("/api/packages", headers=recipient)).json()
        mine = [p for p in listed if p["request_id"] == rid]
        if mine:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"no package for {rid}")
    package_id = mine[0]["package_id"]
    opened = await hub.a.get(f"/api/packages/{package_id}", headers=recipient)
    assert opened.status_code == 200, opened.text
    ack = await hub.a.post(
        f"/api/packages/{package_id}/acknowledge",
        json={"sha256": opened.json()["sha256"]},
        headers=recipient,
    )
    assert ack.status_code == 200, ack.text


async def test_two_workers_and_two_apis_finish_every_request_exactly_once(
    database: TestDatabase, tmp_path: Path
) -> None:
    temporal = EmbeddedTemporal(tmp_path / "temporal", free_port(), None)
    address = await temporal.start()
    try:
        async with open_infrastructure(database.settings) as infra:
            holder = (await infra.agencies.add("police_p", "Police", AgencyKind.POLICE)).code
            requester = (
                await infra.agencies.add("csc_p", "CSC", AgencyKind.CHILDRENS_SOCIAL_CARE)
            ).code
            users = UserDirectory(infra.engine)
            tokens = {
                who: (await users.add(f"Shape {who}", role, agency)).token
                for who, role, agency in (
                    ("coordinator", Role.COORDINATOR, None),
                    ("worker", Role.AGENCY_WORKER, holder),
                    ("advisor", Role.ADVISOR, holder),
                    ("recipient", Role.RECIPIENT, requester),
                )
            }
            env = {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")} | {
                "MASHFLOW_ENVIRONMENT": "test",
                "MASHFLOW_DATABASE_URL": database.admin_url,
                "MASHFLOW_KEK": TEST_KEK,
                "MASHFLOW_TEMPORAL_ADDRESS": address,
                "MASHFLOW_TEMPORAL_TASK_QUEUE": f"shape-{uuid.uuid4().hex[:8]}",
                "MASHFLOW_DATA_DIR": str(tmp_path / "data"),
                "MASHFLOW_LOG_LEVEL": "WARNING",
            }
            ports = [free_port(), free_port()]
            with contextlib.ExitStack() as running:
                workers = [
                    running.enter_context(process(["worker"], env, tmp_path / f"worker{i}.log"))
                    for i in (1, 2)
                ]
                for i, port in enumerate(ports):
                    log = tmp_path / f"api{i}.log"
                    running.enter_context(process(["api", "--port", str(port)], env, log))
                urls = [f"http://127.0.0.1:{port}" for port in ports]
                await asyncio.gather(*(ready(url) for url in urls))
                async with (
                    httpx.AsyncClient(base_url=urls[0], timeout=60) as a,
                    httpx.AsyncClient(base_url=urls[1], timeout=60) as b,
                ):
                    hub = TwoApis(a, b, tokens)
                    rids = []
                    for i in range(REQUESTS):
                        created = await a.post(
                            "/api/requests",
                            json={
                                "subject": {"name": f"Shape Example {i}"},
                                "subject_kind": "child",
                                "requesting_agency": requester,
                                "holding_agencies": [holder],
                                "purpose_category": "safeguarding_welfare",
                                "purpose": "Strategy discussion",
                                "information_sought": "Police contact",
                                "rating": "amber",
                            },
                            headers=hub.as_("coordinator"),
                        )
                        assert created.status_code == 201, created.text
                        rids.append(str(created.json()["request_id"]))
                    walking = [asyncio.create_task(walk(hub, rid)) for rid in rids]
                    await hub.task("advisor", rids[0], "give_advice")
                    kill(workers[0])  # mid-way: one worker gone, its tasks time out and move
                    await asyncio.gather(*walking)
                    for rid in rids:
                        for _ in range(600):
                            shown = await b.get(
                                f"/api/requests/{rid}", headers=hub.as_("coordinator")
                            )
                            if shown.json()["status"] == "closed":
                                break
                            await asyncio.sleep(0.1)
                        else:
                            raise AssertionError(f"{rid} never closed")
            for rid in rids:
                recorded = await infra.store.read_correlation(uuid.UUID(rid))
                assert len({r.event_id for r in recorded}) == len(recorded)
                by_stream: dict[str, list[int]] = {}
                for r in recorded:
                    by_stream.setdefault(r.stream_id, []).append(r.version)
                for versions in by_stream.values():
                    assert sorted(versions) == list(range(1, len(versions) + 1))
                counts = Counter(r.event_type for r in recorded)
                assert {t: counts[t] for t in ONCE} == dict.fromkeys(ONCE, 1), counts
    finally:
        temporal.stop()
