"""Hypothesis strategies for request bodies, built from the API's own OpenAPI document.

``body(schema)`` draws a JSON value that follows the schema; ``body(schema, hostile=True)``
draws one that mostly follows it, with values the schema (or the hub's rules) refuse mixed
in at any depth: control characters, lone surrogates, dates outside 1900-today, huge
strings, wrong types, missing required fields and unknown ones.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import strategies as st

Json = Any

HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\x1b[31m",
        "\x7f",
        "\x85",
        "\ud800",
        "\U0010ffff",
        "x" * 20_001,
        "0001-01-01",
        "1899-12-31",
        "2999-01-01",
        "9999-12-31",
        "-1",
        "null",
        "<script>alert(1)</script>",
        "'; DROP TABLE events; --",
        "police",
        "police_",
    ]
)

HOSTILE: st.SearchStrategy[Json] = st.one_of(
    HOSTILE_TEXT,
    st.text(max_size=20),
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)

PLAIN = st.characters(exclude_categories=("Cs", "Cc"))


class Builder:
    """Strategies for one OpenAPI document; ``known`` maps a string pattern to real values
    (agency codes of the hub) so that some drawn bodies get past the register."""

    def __init__(self, spec: dict[str, Any], known: dict[str, list[str]] | None = None) -> None:
        self.schemas: dict[str, Any] = spec.get("components", {}).get("schemas", {})
        self.known = known or {}

    def body(self, schema: dict[str, Any], *, hostile: bool = False) -> st.SearchStrategy[Json]:
        valid = self._valid(schema, hostile)
        if not hostile:
            return valid
        return st.one_of(valid, valid, valid, HOSTILE)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def _valid(self, schema: dict[str, Any], hostile: bool) -> st.SearchStrategy[Json]:
        schema = self._resolve(schema)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return st.one_of([self.body(s, hostile=hostile) for s in schema[key]])
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.body(schema["allOf"][0], hostile=hostile)
        if "const" in schema:
            return st.just(schema["const"])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kind = schema.get("type")
        if kind == "object":
            return self._object(schema, hostile)
        if kind == "array":
            item = self.body(schema.get("items", {}), hostile=hostile)
            low = schema.get("minItems", 0)
            return st.lists(item, min_size=low, max_size=min(schema.get("maxItems", 3), low + 2))
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return st.integers(schema.get("minimum"), schema.get("maximum"))
        if kind == "number":
            return st.floats(allow_nan=False, allow_infinity=False)
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        return HOSTILE

    def _object(self, schema: dict[str, Any], hostile: bool) -> st.SearchStrategy[Json]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        fields = {
            name: self.body(sub, hostile=hostile)
            for name, sub in properties.items()
            if name in required
        }
        optional = {
            name: self.body(sub, hostile=hostile)
            for name, sub in properties.items()
            if name not in required
        }
        shaped = st.fixed_dictionaries(fields, optional=optional)
        if not hostile:
            return shaped

        @st.composite
        def spoilt(draw: st.DrawFn) -> Json:
            value = dict(draw(shaped))
            if value and draw(st.integers(0, 5)) == 0:
                del value[draw(st.sampled_from(sorted(value)))]
            if draw(st.integers(0, 7)) == 0:
                value["unexpected"] = draw(HOSTILE)
            return value

        return spoilt()

    def _string(self, schema: dict[str, Any]) -> st.SearchStrategy[str]:
        fmt = schema.get("format")
        if fmt == "date":
            return st.dates(date(1900, 1, 1), datetime.now(UTC).date()).map(date.isoformat)
        if fmt == "date-time":
            return st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)
        if fmt == "uuid":
            return st.uuids().map(str)
        pattern = schema.get("pattern")
        low = schema.get("minLength", 0)
        high = min(schema.get("maxLength", 40), low + 40)
        text = st.text(PLAIN, min_size=low, max_size=high).filter(lambda s: len(s.strip()) >= low)
        if pattern is None:
            return text
        if pattern in self.known:
            return st.one_of(
                st.sampled_from(self.known[pattern]), st.from_regex(pattern, fullmatch=True)
            )
        if "minLength" in schema or "maxLength" in schema:
            # Free text bounded in length: plain text that the pattern (the rule against
            # control characters, as published) lets through.
            return text.filter(lambda s: re.fullmatch(pattern, s) is not None)
        return st.from_regex(pattern, fullmatch=True)
