"""``mashflow keys``: the KEK generations in use, and rotating the KEK.

The KEKs are read from the settings (``MASHFLOW_KEK``/``_FILE`` and
``MASHFLOW_KEK_PREVIOUS``/``_FILE``), never from the command line, where they
would be seen in the process list and kept in shell histories.
"""

from __future__ import annotations

from typing import Annotated

import typer

from app.container import open_infrastructure
from cli.common import EXIT_FAILED, console, fail, run, settings_or_exit
from infra.crypto import kek_id_of
from infra.kek_rotation import KekRotation, RotationReport, live_generations
from infra.settings import ConfigurationError, Settings

keys_app = typer.Typer(help="The key-encryption key (KEK): its generations and rotation.")

BatchSize = Annotated[
    int, typer.Option("--batch-size", min=1, max=10_000, help="Keys per transaction.")
]


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


@keys_app.command("status")
def status() -> None:
    """Which KEKs the live subject keys are wrapped under, and which this process holds."""
    settings = settings_or_exit()
    run(_status(settings))


async def _status(settings: Settings) -> None:
    current = kek_id_of(settings.key_encryption_key())
    previous = [kek_id_of(k) for k in settings.previous_key_encryption_keys()]
    async with open_infrastructure(settings, check_keys=False) as infra:
        live = await live_generations(infra.engine)
    console.print(f"MASHFLOW_KEK           {current}", highlight=False)
    console.print(f"MASHFLOW_KEK_PREVIOUS  {', '.join(previous) or '(not set)'}", highlight=False)
    console.print(f"live keys wrapped under {', '.join(sorted(live)) or '(none)'}", highlight=False)
    unknown = live - {current, *previous}
    if unknown:
        fail(f"keys are wrapped under a KEK this process was not given: {', '.join(unknown)}")


@keys_app.command("rotate-kek")
def rotate_kek(batch_size: BatchSize = 500) -> None:
    """Wrap every live key again under MASHFLOW_KEK, taking them from MASHFLOW_KEK_PREVIOUS.

    Resumable: run it again after a stop and it carries on. When it reports the
    rotation complete, follow docs/operations.md (Keys) to retire the previous KEK.
    """
    settings = settings_or_exit()
    report = run(_rotate(settings, batch_size))
    console.print(
        f"KEK {report.from_kek} -> {report.to_kek}: {report.subject_keys} subject keys and "
        f"{report.agency_keys} agency keys wrapped again; {report.left} left under "
        f"{report.from_kek}",
        highlight=False,
    )
    if report.unreadable:
        fail(
            f"{len(report.unreadable)} keys do not open under MASHFLOW_KEK_PREVIOUS and were "
            f"left as they are: {', '.join(report.unreadable[:10])}",
            EXIT_FAILED,
        )
    if not report.complete:
        fail("the rotation is not complete; run the command again", EXIT_FAILED)
    console.print(
        "rotation complete. Keep MASHFLOW_KEK_PREVIOUS until every workflow started before "
        "the rotation has closed, then remove it, restart every process and destroy the old "
        "KEK (docs/operations.md, Keys).",
        highlight=False,
    )


async def _rotate(settings: Settings, batch_size: int) -> RotationReport:
    previous = settings.previous_key_encryption_keys()
    if not previous:
        raise ConfigurationError(
            "MASHFLOW_KEK_PREVIOUS: set it to the KEK being replaced (and MASHFLOW_KEK to the "
            "new one) to rotate"
        )
    async with open_infrastructure(settings) as infra:
        rotation = KekRotation(
            infra.engine,
            infra.store,
            settings.key_encryption_key(),
            previous[0],
            batch_size=batch_size,
        )
        return await rotation.run()
