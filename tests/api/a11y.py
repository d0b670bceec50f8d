"""Accessibility checks of a rendered page, from its HTML (what a screen reader is given).

- every input a person fills in (not hidden, not a button) has a label: a
  ``<label for>`` naming its id, a ``<label>`` around it, or ``aria-label``;
- every ``aria-describedby`` names ids that are on the page, and every error
  message (``id="...-error"``) is named by the field it is about;
- every link within the page (``href="#..."``, the error summary's) has a target;
- a RAG tag carries its rating in words, never colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

FILLED = ("input", "select", "textarea")
NOT_FILLED = frozenset({"hidden", "submit", "button", "reset", "image"})


@dataclass
class _Control:
    tag: str
    attrs: dict[str, str]
    in_label: bool


@dataclass
class _Page(HTMLParser):
    controls: list[_Control] = field(default_factory=list)
    label_for: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    described_by: set[str] = field(default_factory=set)
    rag_texts: list[str] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    _labels: int = 0
    _rag: list[str] | None = None

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if "aria-describedby" in a:
            self.described_by.update(a["aria-describedby"].split())
        if tag == "a" and a.get("href", "").startswith("#") and len(a["href"]) > 1:
            self.anchors.add(a["href"][1:])
        if tag == "label":
            self._labels += 1
            if "for" in a:
                self.label_for.add(a["for"])
        if tag in FILLED and a.get("type", "text") not in NOT_FILLED:
            self.controls.append(_Control(tag, a, self._labels > 0))
        if tag == "span" and "rag" in a.get("class", "").split():
            self._rag = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._labels -= 1
        if tag == "span" and self._rag is not None:
            self.rag_texts.append("".join(self._rag).strip())
            self._rag = None

    def handle_data(self, data: str) -> None:
        if self._rag is not None:
            self._rag.append(data)


def problems(html: str) -> list[str]:
    """Everything wrong with ``html`` by the checks above (empty when it passes)."""
    page = _Page()
    page.feed(html)
    found: list[str] = []
    for c in page.controls:
        name = c.attrs.get("name") or c.attrs.get("id") or c.tag
        labelled = c.in_label or "aria-label" in c.attrs or c.attrs.get("id") in page.label_for
        if not labelled:
            found.append(f"{c.tag} {name!r} has no label")
    found += [f"aria-describedby names missing id {i!r}" for i in page.described_by - page.ids]
    errors = {i for i in page.ids if i.endswith("-error")}
    found += [f"error message {i!r} is not tied to its field" for i in errors - page.described_by]
    found += [f"a link to #{i} finds nothing" for i in page.anchors - page.ids]
    found += [f"a RAG tag without words: {t!r}" for t in page.rag_texts if not t]
    return found


def error_ids(html: str) -> set[str]:
    page = _Page()
    page.feed(html)
    return {i for i in page.ids if i.endswith("-error")}
