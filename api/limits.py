"""The web edge's limits: the request body's size, before anything parses it.

An unauthenticated client could otherwise make the API read (and a form or JSON
parser hold) a body of any size. :class:`BodyLimit` answers 413 at once when the
declared ``Content-Length`` is over the limit, and reads a body without one (chunked)
itself, at most the limit, answering 413 as soon as it passes it, before any route or
parser sees a byte. (A body shorter than it declared is the server's to refuse: uvicorn
never hands on more than ``Content-Length``.)
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import MEDIA_TYPE, TYPE_PREFIX, kind_for_status

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
"""1 MiB: the largest form or JSON body the pages and the API take is a few KiB."""


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with a 413 problem."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and (declared < 0 or declared > self.max_bytes):
            await self._refuse(send)
            return
        if declared is not None:
            await self.app(scope, receive, send)
            return
        # No declared length (a chunked body): read it here, at most the limit, so that a
        # parser never holds more. Refused as soon as it passes the limit.
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        buffered: Message | None = {"type": "http.request", "body": b"".join(chunks)}

        async def replay() -> Message:
            nonlocal buffered
            if buffered is not None:
                message, buffered = buffered, None
                return message
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        kind = kind_for_status(413)
        body = json.dumps(
            {
                "type": TYPE_PREFIX + kind.slug,
                "title": kind.title,
                "status": 413,
                "detail": f"the request body is over {self.max_bytes} bytes",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None
