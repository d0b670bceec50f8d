"""The one Jinja configuration, for the web pages and the printable exports alike."""

from __future__ import annotations

from pathlib import Path

import jinja2


def environment(directory: Path) -> jinja2.Environment:
    """Templates from ``directory``: every one autoescaped whatever its extension, an
    undefined name an error rather than a blank, blocks trimmed."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.do"],  # {% do items.append(...) %}: building a macro's list
    )
