"""The OpenAPI document says what :mod:`api.problems` answers: problem details for every
4xx and 5xx, and the statuses any operation can get."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}
_ANY_AUTHENTICATED = (401, 429)
"""Every operation behind a bearer token: no or a bad token (401), too many bad ones (429)."""
_ANY_BODY = (413, 415, 422)
"""Every operation that reads a body: too large (413), not JSON (415), not valid (422)."""


def document_problems(app: FastAPI, media_type: str, title: Callable[[int], str]) -> None:
    """Make the app's OpenAPI document say what the handlers here answer: every 4xx and 5xx
    is ``media_type`` with ``ProblemDetails`` (FastAPI documents the route's own media type
    and, for its automatic 422, a schema it never sends), and every operation lists the
    statuses any request can get, each described by ``title`` (see
    :data:`_ANY_AUTHENTICATED` and :data:`_ANY_BODY`; 422 where it takes parameters)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            _problems_in(spec, media_type, title)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _problems_in(spec: dict[str, Any], media_type: str, title: Callable[[int], str]) -> None:
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            statuses: set[int] = set()
            if operation.get("security"):
                statuses.update(_ANY_AUTHENTICATED)
            if "requestBody" in operation:
                statuses.update(_ANY_BODY)
            if operation.get("parameters"):
                statuses.add(422)
            for status in statuses:
                responses.setdefault(str(status), {"description": title(status)})
            for code, response in responses.items():
                if code[:1] in {"4", "5"} and _is_problem(response):
                    response["content"] = {media_type: {"schema": _PROBLEM_REF}}
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's, which is not sent
        if f'/{name}"' not in json.dumps(spec.get("paths", {})) + json.dumps(schemas):
            schemas.pop(name, None)


def _is_problem(response: dict[str, Any]) -> bool:
    """A response documented as a problem, as FastAPI's validation error, or not at all."""
    content = response.get("content")
    if not content:
        return True
    refs = {str(media.get("schema", {}).get("$ref", "")) for media in content.values()}
    return refs <= {_PROBLEM_REF["$ref"], "#/components/schemas/HTTPValidationError"}
