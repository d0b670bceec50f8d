"""``mashflow demo``: the main job, end to end, on the embedded stack.

Starts PostgreSQL and the Temporal dev server from their wheels, registers a
small hub, runs a worker in this process, drives a handful of realistic
requests through every path of the decision (consent given; refused and
respected; refused but shared with advice; a parent's health information
shared without consent to protect their child, on DPA 2018 Sch. 1 para 18;
red with consent not sought; no legitimate purpose; a missed deadline that
escalates), prints each decision
record and the replayed history of one request, verifies the whole store,
and stops everything. The people and their stories are invented.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from rich.panel import Panel
from rich.table import Table

from app import scenarios
from app.container import Infrastructure, build_container, open_infrastructure
from app.history import request_history
from app.scenario_builder import Hub, policy_in_seconds, register_agencies
from cli.audit_cmds import _print_history
from cli.common import console
from infra.settings import Settings
from infra.stack import running_stack
from infra.temporal import connect_client
from worker.main import build_worker

DEMO_TASK_QUEUE = "mashflow-demo"


HURRIED = policy_in_seconds((4, 8, 12), (4, 8, 12))
"""A hub policy measured in seconds, so the demo can show a deadline being missed."""


async def run_demo(settings: Settings) -> bool:
    async with running_stack(settings, ui=False) as stack:
        address = stack.settings.temporal_address
        console.print(f"[green]stack healthy[/]: PostgreSQL ready, Temporal at {address}")
        client = await connect_client(stack.settings)
        async with open_infrastructure(stack.settings) as infra:
            await register_agencies(infra.agencies)
            async with build_worker(client, DEMO_TASK_QUEUE, infra):
                demo = build_container(infra, client, task_queue=DEMO_TASK_QUEUE)
                hub = Hub(demo.requests, demo.packages)
                paths = await _run_paths(hub, infra)
                for title, request_id in paths:
                    await hub.requests.result(request_id)
                    await _print_decisions(infra, title, request_id)
                console.rule("the replayed history of one request")
                history = await request_history(
                    infra.store, infra.keyring, paths[3][1], reveal=False
                )
                _print_history(history, stack.settings.hub_policy().calendar.timezone)
            return await _verify(infra)


async def _run_paths(hub: Hub, infra: Infrastructure) -> list[tuple[str, UUID]]:
    paths: list[tuple[str, UUID]] = []
    for title, run in (
        ("consent given: shared", scenarios.consent_given),
        ("consent refused: not shared", scenarios.consent_refused_not_shared),
        (
            "consent refused: shared with advice to protect the child",
            scenarios.refused_but_shared_with_advice,
        ),
        (
            "a parent's information shared without consent to protect the child (para 18)",
            scenarios.parent_shared_to_protect_child,
        ),
        (
            "red: consent not sought, shared at once, reviewed after",
            scenarios.red_consent_not_sought,
        ),
        ("no legitimate purpose: not shared", scenarios.no_legitimate_purpose),
    ):
        with console.status(title):
            paths.append((title, await run(hub)))
        console.print(f"[green]done[/] {title}")
    hurried = Hub(
        build_container(
            infra, hub.requests.client, task_queue=DEMO_TASK_QUEUE, policy=HURRIED
        ).requests,
        hub.packages,
    )
    opened: asyncio.Queue[UUID] = asyncio.Queue()
    answer = asyncio.Event()
    title = "nobody answers in time: deadline missed, escalated, answered late"
    with console.status(title):
        running = asyncio.create_task(scenarios.deadline_missed(hurried, opened, answer))
        request_id = await opened.get()
        await _until_notified(infra, request_id, "deadline_breach")
        notes = await infra.outbox.for_request(request_id)
        answer.set()
        await running
    console.print(f"[green]done[/] {title}")
    for note in notes:
        if note.kind.startswith("deadline_"):
            console.print(
                f"    notified {', '.join(note.audience_roles)} of {note.agency}: {note.kind}",
                highlight=False,
            )
    paths.append((title, request_id))
    return paths


async def _until_notified(infra: Infrastructure, request_id: UUID, kind: str) -> None:
    """Poll the outbox: the escalation is written by the workflow, not by this coroutine."""
    for _ in range(240):
        if kind in {n.kind for n in await infra.outbox.for_request(request_id)}:
            return
        await asyncio.sleep(0.25)
    raise TimeoutError(f"no {kind} notification within a minute")


async def _print_decisions(infra: Infrastructure, title: str, request_id: UUID) -> None:
    history = await request_history(infra.store, infra.keyring, request_id, reveal=True)
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for agency in history.agencies:
        record = agency.decision_record or {}
        basis = record.get("lawful_basis") or {}
        consent = record.get("consent") or {}
        table.add_row("agency", agency.agency)
        table.add_row("decision", str(record.get("outcome", "undecided")))
        table.add_row("consent", str(consent.get("outcome", "-")))
        table.add_row(
            "lawful basis",
            ", ".join(
                str(v)
                for v in (basis.get("art6"), basis.get("art9"), basis.get("without_consent"))
                if v
            )
            or "-",
        )
        protects = basis.get("protects") or {}
        if protects:
            table.add_row(
                "protects",
                f"the {protects['relation']} ({protects['kind']} at risk)".replace("_", " "),
            )
        if basis.get("para18_reason"):
            table.add_row(
                "DPA 2018 Sch. 1 para 18",
                f"consent {basis['para18_reason']}".replace("_", " "),
            )
        table.add_row("reasons", str(record.get("reasons", "-")))
        table.add_row("advice taken", str(len(record.get("advice", []))))
        table.add_row("items shared", str(len(record.get("items", []))))
        table.add_row("decided by", f"{record.get('decided_by')} ({record.get('decided_by_role')})")
        table.add_row("on time", str(not agency.state.missed))
    console.print(Panel(table, title=f"{title}  [dim]{request_id}[/]", expand=False))


async def _verify(infra: Infrastructure) -> bool:
    await infra.store.checkpoint()
    report = await infra.store.verify()
    if report.ok:
        console.print(
            f"[green]verified[/]: {report.events_checked} events, every hash chain intact; "
            f"checkpoint digest {report.checkpoint_digest}"
        )
    else:
        for problem in report.findings:
            console.print(f"[bold red]broken[/]: {problem}", highlight=False)
    return report.ok
