"""Signed checkpoints and their anchor outside the database.

A database administrator can rewrite the log, recompute every hash and every
checkpoint's digest: everything ``verify`` reads from the database is theirs to
forge. Two things are not:

- the checkpoint signature: an HMAC-SHA256 over the checkpoint's version and
  digest, under a key derived from the KEK (HKDF, ``Keyring.checkpoint_key``),
  which the application holds and the database's administrators do not;
- the anchor: every signed checkpoint, written by the checkpoint schedule to a
  place outside the database, write-once. :class:`DirectoryAnchor` writes one
  read-only file per checkpoint (``checkpoint-<version>.json``), created
  exclusively and never through a symbolic link, synced to disk; pointed at a
  mount the database's administrators cannot write (another host, a WORM volume,
  an object-store mount with object lock), it outlives a rewrite of the database.

``verify`` compares the log's checkpoints with the anchor's (``integrity``): an
anchored checkpoint missing from the log or differing from it, a version missing
between two anchored ones, and an entry whose signature does not hold are all
reported.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

_PREFIX = "checkpoint-"


class AnchorError(Exception):
    """The anchor refused a write (an entry already there says something else)."""


def sign(key: bytes, version: int, digest: str) -> str:
    """The signature of checkpoint ``version`` with ``digest`` (hex)."""
    message = f"mashflow checkpoint v1\n{version}\n{digest}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signature_holds(key: bytes, version: int, digest: str, signature: str) -> bool:
    return hmac.compare_digest(sign(key, version, digest), signature)


@dataclass(frozen=True, slots=True)
class AnchoredCheckpoint:
    """What the anchor keeps of one checkpoint."""

    version: int
    position: int
    horizon: int
    digest: str
    signature: str

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode() + b"\n"


@dataclass(frozen=True, slots=True)
class AnchorContents:
    entries: tuple[AnchoredCheckpoint, ...]
    unreadable: tuple[str, ...]
    """Names of files in the anchor that are not well-formed entries."""


class DirectoryAnchor:
    """A write-once directory of signed checkpoints (see the module)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _file(self, version: int) -> Path:
        return self.path / f"{_PREFIX}{version:012d}.json"

    def write(self, entry: AnchoredCheckpoint) -> None:
        """Write ``entry`` once. Writing the same entry again is a no-op (a retried
        activity); a different entry for the same version is refused."""
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self._file(entry.version)
        body = entry.to_json()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        try:
            fd = os.open(target, flags, 0o444)
        except FileExistsError:
            if not target.is_symlink() and target.read_bytes() == body:
                return
            raise AnchorError(
                f"the anchor already holds another checkpoint {entry.version}"
            ) from None
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        dir_fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)  # the new name survives a crash too
        finally:
            os.close(dir_fd)

    def read(self) -> AnchorContents:
        """Every entry, by version; nothing if the directory does not exist yet."""
        if not self.path.is_dir():
            return AnchorContents((), ())
        entries: list[AnchoredCheckpoint] = []
        unreadable: list[str] = []
        for file in sorted(self.path.iterdir()):
            if not file.name.startswith(_PREFIX):
                continue
            try:
                if file.is_symlink():
                    raise ValueError("a link")
                entry = AnchoredCheckpoint(**json.loads(file.read_bytes()))
                numbers = (entry.version, entry.position, entry.horizon)
                texts = (entry.digest, entry.signature)
                if not all(type(n) is int for n in numbers) or not all(
                    type(t) is str for t in texts
                ):
                    raise ValueError("not an entry")
                if file.name != self._file(entry.version).name:
                    raise ValueError("named for another version")
            except (OSError, ValueError, TypeError):
                unreadable.append(file.name)
                continue
            entries.append(entry)
        entries.sort(key=lambda e: e.version)
        return AnchorContents(tuple(entries), tuple(unreadable))
