"""Finding the local stack ``mashflow up`` runs, so commands in another terminal use it.

While it runs, ``mashflow up`` keeps a note in the data directory (``running.json``,
readable by its owner only) of the database URL and Temporal address it started. A
command whose settings name neither (the development default) uses them, if the
process that wrote the note is still alive. A set ``MASHFLOW_DATABASE_URL`` or
``MASHFLOW_TEMPORAL_ADDRESS`` always wins, and production never reads the note.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from infra.settings import Environment, Settings

NOTE = "running.json"


def note_path(settings: Settings) -> Path:
    return settings.data_dir / NOTE


def publish(settings: Settings) -> Path:
    """Write the note for ``settings`` (the running stack's, resolved) and return its path."""
    path = note_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "pid": os.getpid(),
        "database_url": settings.database_url,
        "temporal_address": settings.temporal_address,
        "temporal_namespace": settings.temporal_namespace,
        "temporal_task_queue": settings.temporal_task_queue,
    }
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(body, out)
    path.with_suffix(".tmp").replace(path)
    return path


def withdraw(settings: Settings) -> None:
    """Remove the note if this process wrote it."""
    path = note_path(settings)
    if _read(path).get("pid") == os.getpid():
        path.unlink(missing_ok=True)


def attach(settings: Settings) -> Settings:
    """``settings`` pointed at the running local stack, where the note applies."""
    if settings.environment is Environment.PRODUCTION:
        return settings
    if settings.database_url is not None or settings.temporal_address is not None:
        return settings
    note = _read(note_path(settings))
    pid = note.get("pid")
    if not isinstance(pid, int) or not _alive(pid) or not note.get("database_url"):
        return settings
    return settings.with_overrides(
        database_url=note["database_url"],
        database_admin_url=note["database_url"],
        temporal_address=note.get("temporal_address"),
        temporal_namespace=note.get("temporal_namespace") or settings.temporal_namespace,
        temporal_task_queue=note.get("temporal_task_queue") or settings.temporal_task_queue,
    )


def _read(path: Path) -> dict[str, object]:
    with contextlib.suppress(OSError, ValueError):
        found = json.loads(path.read_text())
        if isinstance(found, dict):
            return found
    return {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
