"""Signed commands: the application vouches for every start and update it sends to Temporal.

Temporal is not a trust boundary: anyone who reaches its frontend can start a
workflow or send an update. So the application signs each command with a key
derived from the KEK (HKDF, a label of its own), and the worker checks the
signature before a workflow or an update handler sees the command
(``infra.guard``). What is signed, as one canonical line:

- the kind (``start``, ``update`` or ``signal``), the workflow id, the workflow
  type, update name or signal name, and the update id (a signal's own id): a
  signature made for one request, one step or one task id is refused anywhere
  else, and the same update id twice is deduplicated by the server (a signal id
  twice by the receiving workflow, ``infra.guard``), so a signature cannot be
  spent twice;
- the time it was made (recorded, so an audit sees when the application sent it);
- a SHA-256 digest of the arguments' canonical JSON: the acting user, role and
  agency (the ``Actor``) and the command itself, so changing any of them breaks
  the signature.

The signature travels in a Temporal header (headers do not pass through the
payload codec); it holds a time and a MAC, nothing personal. Verification is a
pure function (``hmac`` and ``hashlib``), so it runs inside the workflow sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic_core import to_json
from temporalio.api.common.v1 import Payload

from infra.codec import derive_key, scheduled_action

HEADER = "mashflow-command"
SIGNING_KEY_INFO = b"mashflow command signing v1"
ENVELOPE_VERSION = 1

Kind = Literal["start", "update", "signal"]


class CommandRefusedError(Exception):
    """A command without a valid signature from this hub. Says why, never what it held."""


@dataclass(frozen=True)
class Command:
    """What one signature covers."""

    kind: Kind
    workflow_id: str
    name: str
    """The workflow type (a start), the update's or the signal's name."""
    update_id: str
    """The update id, or the signal's id (its sender's run id and a count)."""
    args: Sequence[Any]

    def message(self, signed_at: str) -> bytes:
        digest = hashlib.sha256(to_json(list(self.args))).hexdigest()
        fields = [
            f"v{ENVELOPE_VERSION}",
            self.kind,
            self.workflow_id,
            self.name,
            self.update_id,
            signed_at,
            digest,
        ]
        # Length-prefixed fields: no two different commands give the same line.
        return "\n".join(f"{len(f)}:{f}" for f in fields).encode()


class CommandSigner:
    """Signs and checks commands with the hub's command key."""

    def __init__(self, kek: bytes, *previous: bytes) -> None:
        self._keys = [derive_key(k, SIGNING_KEY_INFO) for k in (kek, *previous)]
        """Signs with the first (the current KEK's); checks with each (a KEK rotation's
        previous KEK, while the transition lasts: ``docs/operations.md``)."""

    def _mac(self, command: Command, signed_at: str, key: bytes | None = None) -> str:
        message = command.message(signed_at)
        return hmac.new(key or self._keys[0], message, hashlib.sha256).hexdigest()

    def signature(self, command: Command, now: datetime | None = None) -> dict[str, str | int]:
        """The signature's body: a version, a time and a MAC (and a signal's id)."""
        signed_at = (now or datetime.now(UTC)).isoformat()
        body: dict[str, str | int] = {
            "v": ENVELOPE_VERSION,
            "at": signed_at,
            "mac": self._mac(command, signed_at),
        }
        if command.kind == "signal":
            body["id"] = command.update_id  # a signal has no id of its own: it travels here
        return body

    def header(self, command: Command, now: datetime | None = None) -> Payload:
        return Payload(
            metadata={"encoding": b"json/plain"},
            data=json.dumps(self.signature(command, now), separators=(",", ":")).encode(),
        )

    def headers(
        self, existing: Mapping[str, Payload], command: Command, now: datetime | None = None
    ) -> dict[str, Payload]:
        return {**existing, HEADER: self.header(command, now)}

    def verify(self, headers: Mapping[str, Payload], command: Command) -> None:
        """Return quietly for a command this hub signed; raise :class:`CommandRefusedError`."""
        payload = headers.get(HEADER)
        if payload is None:
            raise CommandRefusedError("command refused: not signed by this hub")
        try:
            body = json.loads(payload.data)
        except ValueError:
            raise CommandRefusedError("command refused: malformed signature") from None
        self.verify_signature(body, command)

    def verify_signature(self, body: object, command: Command) -> None:
        """:meth:`verify` for a signature's body (a signal carries it as its last argument)."""
        if not isinstance(body, dict):
            raise CommandRefusedError("command refused: malformed signature")
        try:
            version, signed_at, mac = body["v"], body["at"], body["mac"]
        except KeyError:
            raise CommandRefusedError("command refused: malformed signature") from None
        if version != ENVELOPE_VERSION or not isinstance(signed_at, str):
            raise CommandRefusedError("command refused: unknown signature version")
        if not isinstance(mac, str):
            raise CommandRefusedError("command refused: malformed signature")
        candidates = [command]
        action = scheduled_action(command.workflow_id) if command.kind == "start" else None
        if action is not None:
            # A schedule signs its action once, for the action's id; each run adds a time.
            candidates.append(
                Command(command.kind, action, command.name, command.update_id, command.args)
            )
        for candidate in candidates:
            for key in self._keys:
                if hmac.compare_digest(mac, self._mac(candidate, signed_at, key)):
                    return
        raise CommandRefusedError(
            "command refused: signature does not match this workflow, step and content"
        )
