"""One request's audit export: JSON, CSV or a printable, self-contained HTML page.

People read times on the hub's clock (its working calendar's zone, as the pages show
them), each with its zone's abbreviation ("25 Oct 2026, 01:30:00 BST"): the printable
page throughout, the CSV in ``recorded_local`` and in the decision records' words. The
CSV's ``recorded_at`` and the JSON keep ISO 8601 in UTC with its offset, for machines.

The HTML templates are this package's own (``app/templates``), rendered by the
one Jinja configuration (:func:`app.templating.environment`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import jinja2

from app.history import RequestHistory
from app.record_words import details_lines, named, record_lines
from app.request_timeline import on_hub_clock
from app.timetext import record_time, sortable_time
from infra.eventstore import VerifyReport

TEMPLATES = Path(__file__).resolve().parent / "templates"


class ExportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def report_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "events_checked": report.events_checked,
        "checkpoints_checked": report.checkpoints_checked,
        "anchored_checked": report.anchored_checked,
        "checkpoint_digest": report.checkpoint_digest,
        "problems": [
            {
                "kind": p.kind.value,
                "stream_id": p.stream_id,
                "version": p.version,
                "detail": p.detail,
            }
            for p in report.findings
        ],
    }


def history_json(history: RequestHistory) -> dict[str, Any]:
    data: dict[str, Any] = history.model_dump(mode="json")
    return data


CSV_COLUMNS = (
    "section",
    "position",
    "stream_id",
    "version",
    "recorded_at",
    "recorded_local",
    "event_type",
    "agency",
    "actor_id",
    "actor_role",
    "actor_agency",
    "field",
    "value",
    "summary",
)


def history_csv(history: RequestHistory, zone: str) -> str:
    """One table: the timeline, each decision record field by field, the access log, the
    check; times for people on the clock of ``zone`` (the hub's)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(csv_rows(history, zone))
    return out.getvalue()


def csv_rows(history: RequestHistory, zone: str) -> Iterator[dict[str, Any]]:
    """The lines of :func:`history_csv` as dicts, every text cell spreadsheet-safe (the
    export over a range writes them too)."""
    for row in _csv_rows(history, zone):
        yield {key: spreadsheet_safe(value) for key, value in row.items()}


def export_templates() -> jinja2.Environment:
    """The printable exports' templates (one request, and a date range)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["record_lines"] = record_lines
    env.globals["details_lines"] = details_lines
    env.globals["named"] = named
    env.globals["record_time"] = record_time
    env.globals["on_hub_clock"] = on_hub_clock
    return env


def history_html(
    history: RequestHistory,
    people: Mapping[str, str] | None = None,
    agencies: Mapping[str, str] | None = None,
    *,
    zone: str,
) -> str:
    """A printable page of the whole history (self-contained: no scripts, no links out);
    ``people`` (user id -> display name) and ``agencies`` (code -> name) name them; every
    time on the clock of ``zone`` (the hub's), with its abbreviation."""
    template = export_templates().get_template("audit_export.html")
    return template.render(
        history=history,
        people=people or {},
        agencies=agencies or {},
        generated_at=datetime.now(UTC),
        zone=zone,
    )


def export_request(
    history: RequestHistory,
    fmt: ExportFormat | str,
    people: Mapping[str, str] | None = None,
    agencies: Mapping[str, str] | None = None,
    *,
    zone: str,
) -> str:
    """The audit export of one request, as JSON, CSV or a printable HTML page (the page
    names people when ``people`` is given; JSON and CSV keep ids, for other tools). Times
    for people are on the clock of ``zone`` (the hub's); JSON keeps UTC."""
    kind = ExportFormat(fmt)
    if kind is ExportFormat.JSON:
        return json.dumps(history_json(history), indent=2, ensure_ascii=False) + "\n"
    if kind is ExportFormat.CSV:
        return history_csv(history, zone)
    return history_html(history, people, agencies, zone=zone)


MEDIA_TYPES = {
    ExportFormat.JSON: "application/json",
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.HTML: "text/html; charset=utf-8",
}


def spreadsheet_safe(value: Any) -> Any:
    """A text cell that would start a formula, behind an apostrophe (shown, not run)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_rows(history: RequestHistory, zone: str) -> Iterator[dict[str, Any]]:
    for e in history.events:
        row = e.model_dump(mode="json")
        yield {
            "section": "event",
            **row,
            "recorded_local": sortable_time(e.recorded_at, zone),
            "summary": on_hub_clock(e.summary, zone),
        }
    for a in history.agencies:
        # The record in words, labelled as the pages show it: never raw field paths.
        for label, value in record_lines(a.decision_record, zone=zone):
            yield {"section": "decision", "agency": a.agency, "field": label, "value": value}
    for v in history.access_log:
        yield {
            "section": "access",
            "recorded_at": v.viewed_at.isoformat(),
            "recorded_local": sortable_time(v.viewed_at, zone),
            "actor_id": v.viewer_id,
            "actor_role": v.viewer_role.value,
            "actor_agency": v.viewer_agency or "",
            "field": "Refused attempt to view" if v.refused else "Viewed in clear",
            "value": v.what.value,
        }
    yield {
        "section": "verification",
        "field": "Integrity verified",
        "value": str(history.verification.ok).lower(),
        "summary": "; ".join(history.verification.problems),
    }


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (CSV injection)."""
