"""Files that hold personal data: written owner-only, whole or not at all, never via a link.

An export with ``--reveal`` holds people's details in clear. :func:`private_file`
writes it to a new file in the target's directory, created exclusively, mode 0600,
never through a symbolic link, synced, and then renamed over the target: a reader
never sees half an export, other local users never see any of it, and a link
planted at the target's name is replaced, not followed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def private_file(target: Path) -> Iterator[TextIO]:
    """A text sink whose content becomes ``target`` when the block ends without error."""
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory")
    aside = target.with_name(f".{target.name}.{secrets.token_hex(6)}.part")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(aside, flags, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as sink:
            yield sink
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(aside, target)  # a link at ``target`` is replaced, never followed
    finally:
        aside.unlink(missing_ok=True)
