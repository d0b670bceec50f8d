"""The custom search attributes the workflows upsert, registered on the namespace.

The workflows (``workflows.search``) upsert ``MashflowRating``, ``MashflowAgencies``,
``MashflowDueAt`` and ``MashflowOverdue``; Temporal refuses an upsert of an attribute
the namespace does not know, and the workflow task then fails until it is registered.

- The dev server registers them at start (:func:`dev_server_args`, used by the
  embedded stack, the test fixtures and the benchmarks).
- A worker checks them at start (:func:`ensure`): a missing attribute is added if
  the client may do so, else the worker stops with the command an operator runs.
"""

from __future__ import annotations

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from infra.settings import ConfigurationError

log = structlog.get_logger(__name__)

SEARCH_ATTRIBUTES: dict[str, str] = {
    "MashflowRating": "Keyword",
    "MashflowAgencies": "KeywordList",
    "MashflowDueAt": "Datetime",
    "MashflowOverdue": "Bool",
}
"""Name and type of every attribute the workflows upsert, as the Temporal CLI spells them."""

_INDEXED = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


def dev_server_args() -> list[str]:
    """``temporal server start-dev`` arguments that register every attribute."""
    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


def create_commands(namespace: str) -> list[str]:
    """The commands an operator runs once per namespace."""
    return [
        f"temporal operator search-attribute create --namespace {namespace} "
        f"--name {name} --type {kind}"
        for name, kind in SEARCH_ATTRIBUTES.items()
    ]


async def ensure(client: Client) -> None:
    """Make sure the namespace knows every attribute; add the missing ones if allowed.

    A server that does not list them to this client (no operator access, as on some
    hosted namespaces) is not stopped for: a warning is logged and the worker starts,
    trusting the operator registered them (docs/operations.md)."""
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
    except RPCError as exc:
        log.warning("search_attributes_unchecked", reason=exc.message)
        return
    known = set(listed.custom_attributes) | set(listed.system_attributes)
    missing = [n for n in SEARCH_ATTRIBUTES if n not in known]
    if not missing:
        return
    try:
        await add(client, missing)
    except RPCError as exc:
        commands = "; ".join(
            c for c in create_commands(client.namespace) if any(n in c for n in missing)
        )
        raise ConfigurationError(
            f"Temporal namespace {client.namespace}: search attributes "
            f"{', '.join(sorted(missing))} are not registered and could not be added "
            f"({exc.message}); run: {commands}"
        ) from None
    log.info("search_attributes_added", names=sorted(missing))


async def add(client: Client, names: list[str] | None = None) -> None:
    """Register ``names`` (default: all) on the namespace; those already there are kept.
    (The time-skipping test server adds attributes but does not list them.)"""
    wanted = names if names is not None else list(SEARCH_ATTRIBUTES)
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=client.namespace,
                search_attributes={n: _INDEXED[SEARCH_ATTRIBUTES[n]] for n in wanted},
            )
        )
    except RPCError as exc:
        if exc.status is not RPCStatusCode.ALREADY_EXISTS:
            raise
