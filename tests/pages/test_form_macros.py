"""The shared form macros hold only what pages use: each macro in form_macros.html is
called from some template, so no stale markup (old classes, old ids) lingers there."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"


def test_every_form_macro_is_used_by_a_page() -> None:
    source = (TEMPLATES / "form_macros.html").read_text()
    defined = re.findall(r"{%-?\s*macro\s+(\w+)\(", source)
    assert defined, "form_macros.html defines no macro"
    pages = "".join(
        p.read_text() for p in TEMPLATES.rglob("*.html") if p.name != "form_macros.html"
    )
    inside = source  # a macro may be used by another macro of the file (yes_no -> radios)
    unused = [
        name
        for name in defined
        if f"f.{name}(" not in pages and len(re.findall(rf"\b{name}\(", inside)) < 2
    ]
    assert unused == []
