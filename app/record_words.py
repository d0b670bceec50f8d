"""A decision record in words, in the order of the ICO's request and decision form.

History pages, the printable export and the export over a range show a
decision record as labelled lines, never as raw JSON. The input is the
JSON-ready record that :func:`app.history.request_history` renders (sealed
values opened when revealed, else ``[sealed]``); enum values become words.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

Line = tuple[str, str]


def words(value: object) -> str:
    """An enum value as plain words: ``significant_harm_to_child`` -> significant harm to child."""
    return str(value).replace("_", " ")


def _yes(value: object) -> str:
    return "yes" if value else "no"


def when(value: object) -> str:
    """An ISO 8601 instant or day from the record in words: ``5 Dec 2026, 06:26 UTC``,
    ``14 March 2017``; anything else (``[sealed]``, blank) as it is."""
    text = str(value or "")
    try:
        if "T" in text:
            instant = datetime.fromisoformat(text).astimezone(UTC)
            return f"{instant.day} {instant:%b %Y, %H:%M} UTC"
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%B %Y}"


def on_clock(value: Any, zone: str) -> Any:
    """``value`` (a JSON-ready record) with each instant in it (an ISO 8601 text with a
    time and an offset) in words on the clock of ``zone``: ``5 Dec 2026, 14:05 GMT``.
    Days, sealed values and other text are left as they are."""
    if isinstance(value, Mapping):
        return {k: on_clock(v, zone) for k, v in value.items()}
    if isinstance(value, list):
        return [on_clock(v, zone) for v in value]
    if isinstance(value, str) and "T" in value:
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        if instant.tzinfo is None:
            return value
        local = instant.astimezone(ZoneInfo(zone))
        return f"{local.day} {local:%b %Y, %H:%M} {local.tzname()}"
    return value


def record_lines(
    record: Mapping[str, Any] | None,
    people: Mapping[str, str] | None = None,
    agencies: Mapping[str, str] | None = None,
    zone: str | None = None,
) -> list[Line]:
    """Every field of the record that holds something, labelled, in the form's order.

    Besides the record's own fields it reads what :func:`app.history.request_history` adds:
    ``names`` (user id to display name, from the register) and ``afterwards`` (whether the
    person was then told, and a withdrawal of consent). ``people`` (user id to display
    name, from the user directory) names the people the record holds by id, as ``names``;
    ``agencies`` (code to name, from the register) names the agencies. ``zone`` (the hub's)
    puts its times on the hub's clock, as the pages show every time; without it, UTC."""
    if not record:
        return []
    if zone is not None:
        record = on_clock(record, zone)
    names: Mapping[str, str] = {**(record.get("names") or {}), **(people or {})}
    places = agencies or {}
    r = {
        **record,
        "names": names,
        "_with_ids": people is None,  # the page and printable export name people everywhere
        "requesting_agency": places.get(
            str(record.get("requesting_agency")), record.get("requesting_agency")
        ),
        "shared_with": places.get(str(record.get("shared_with")), record.get("shared_with", "")),
    }
    if r.get("proactive"):
        lines: list[Line] = [
            ("Shared proactively", "yes: not asked for; the holding agency shared unsolicited"),
            ("Recipient (did not ask)", str(r.get("requesting_agency"))),
            ("Started by", _person(r.get("requested_by"), names)),
        ]
    else:
        lines = [
            (
                "Requesting organisation",
                f"{r.get('requesting_agency')}, for {_person(r.get('requested_by'), names)}",
            )
        ]
    lines += [
        ("Date received", when(r.get("received_at"))),
        ("Purpose", words(r.get("purpose_category", ""))),
        ("Decision", "share" if r.get("outcome") == "share" else "not share"),
        ("Decided by", _decider(r)),
        ("Decided at", when(r.get("decided_at"))),
    ]
    lines += basis_lines(r.get("lawful_basis"))
    isp = _yes(r.get("isp_exists"))
    if r.get("isp_reference"):
        isp += f": relied on, reference {r['isp_reference']}"
    lines.append(("Information sharing protocol in force", isp))
    lines += _consent_lines(r.get("consent") or {}, names)
    lines += _advice_lines(r.get("advice") or [], names)
    lines.append(("Reasons", str(r.get("reasons", ""))))
    if r.get("not_share_reasons"):
        lines.append(
            ("Reasons not to share (told to the requester)", _join(r["not_share_reasons"]))
        )
    if r.get("necessity"):
        lines.append(("Why necessary and proportionate", str(r["necessity"])))
    lines += _shared_lines(r)
    lines += _inform_lines(r.get("inform"))
    if r.get("urgent_override"):
        lines.append(("Shared before an advisor agreed, because", str(r["urgent_override"])))
    lines += _afterwards_lines(r, names)
    return lines


def named(text: str, people: Mapping[str, str], agencies: Mapping[str, str] | None = None) -> str:
    """A timeline sentence with each person's id (as the log records them) as their name,
    and each agency's code (a whole word) as its name where ``agencies`` is given."""
    for code, name in (agencies or {}).items():
        text = re.sub(rf"\b{re.escape(code)}\b", name, text)
    for user_id, name in people.items():
        if user_id in text:
            text = text.replace(user_id, name)
    return text


def details_lines(details: Mapping[str, Any] | None) -> list[Line]:
    """The request's sealed details (subject, purpose, information sought), labelled."""
    out: list[Line] = []
    for key, value in (details or {}).items():
        if isinstance(value, Mapping):
            out += [(f"{words(key)}: {words(k)}", str(v)) for k, v in value.items()]
        else:
            out.append((words(key), str(value)))
    return out


def _join(values: Sequence[object]) -> str:
    return ", ".join(words(v) for v in values) or "none"


def _person(user_id: object, names: Mapping[str, str]) -> str:
    """A person by display name (from the register); the id only where no name is known."""
    name = names.get(str(user_id))
    return name if name else str(user_id)


def _decider(r: Mapping[str, Any]) -> str:
    """The decision maker by name and position (the ICO form asks for both), with role and
    id (the id the timeline shows, where it shows ids); by id alone where the register has
    no name for them."""
    role = words(r.get("decided_by_role", ""))
    position = f", {r['decided_by_position']}" if r.get("decided_by_position") else ""
    name = (r.get("names") or {}).get(str(r.get("decided_by")))
    if name and not r.get("_with_ids", True):
        return f"{name}{position} ({role})"
    if name:
        return f"{name}{position} ({role}; user {r.get('decided_by')})"
    return f"{r.get('decided_by')} ({role}){position}"


def basis_lines(basis: Mapping[str, Any] | None) -> list[Line]:
    if not basis:
        return [("Lawful basis", "none recorded")]
    lines: list[Line] = [("Lawful basis (UK GDPR Article 6)", words(basis.get("art6", "")))]
    if basis.get("legal_power"):
        lines.append(("Legal power behind the public task", str(basis["legal_power"])))
    if basis.get("life_or_death"):
        lines.append(("Vital interests", "someone's life was at stake"))
    if basis.get("art9"):
        lines.append(("Special-category condition", words(basis["art9"])))
    if basis.get("offence_condition"):
        lines.append(("Criminal offence data condition", words(basis["offence_condition"])))
    if basis.get("without_consent"):
        lines.append(("Ground for sharing without consent", words(basis["without_consent"])))
    instrument = basis.get("instrument")
    if instrument:
        text = f"{words(instrument.get('kind', ''))}: {instrument.get('citation', '')}"
        if instrument.get("reference"):
            text += f" (reference {instrument['reference']})"
        lines.append(("Statutory duty or court order", text))
    protects = basis.get("protects")
    if protects:
        lines.append(
            (
                "Who sharing protects",
                f"the {words(protects.get('relation', ''))} "
                f"({words(protects.get('kind', ''))} at risk)",
            )
        )
    if basis.get("para18_reason"):
        lines.append(("DPA 2018 Sch. 1 para 18: consent", words(basis["para18_reason"])))
    if basis.get("rationale"):
        lines.append(("Judgement on the facts", str(basis["rationale"])))
    return lines


def _consent_lines(consent: Mapping[str, Any], names: Mapping[str, str]) -> list[Line]:
    outcome = words(consent.get("outcome", "not recorded"))
    detail = [
        words(consent[k])
        for k in ("could_not_obtain_reason", "not_sought_reason")
        if consent.get(k)
    ]
    lines: list[Line] = [("Consent", outcome + (f" ({', '.join(detail)})" if detail else ""))]
    at_risk = consent.get("at_risk")
    if at_risk:
        lines.append(
            (
                "Asking would have put at risk",
                f"the {words(at_risk.get('relation', ''))} ({words(at_risk.get('kind', ''))})",
            )
        )
    if consent.get("given_by"):
        lines.append(("Consent given by", words(consent["given_by"])))
    if consent.get("capacity_considered") is not None and consent.get("given_by"):
        lines.append(("Capacity or competence considered", _yes(consent["capacity_considered"])))
    if consent.get("scope"):
        lines.append(("What the consent covers", str(consent["scope"])))
    if consent.get("note"):
        lines.append(("Consent notes", str(consent["note"])))
    if consent.get("recorded_at"):
        lines.append(("Consent recorded at", when(consent["recorded_at"])))
    if consent.get("withdrawal"):
        lines += _withdrawal_lines(consent["withdrawal"], names)
    return lines


def _withdrawal_lines(w: Mapping[str, Any], names: Mapping[str, str]) -> list[Line]:
    text = f"by {words(w.get('withdrawn_by', ''))}, on {when(w.get('withdrawn_on'))}"
    lines: list[Line] = [("Consent withdrawn", text)]
    if w.get("scope"):
        lines.append(("What the withdrawal covers", str(w["scope"])))
    recorded = f"{_person(w.get('recorded_by'), names)}, at {when(w.get('recorded_at'))}"
    lines.append(("Withdrawal recorded by", recorded))
    return lines


def _afterwards_lines(r: Mapping[str, Any], names: Mapping[str, str]) -> list[Line]:
    """What happened after the decision: whether the person was told, and a withdrawal of
    the consent the decision was made on."""
    after: Mapping[str, Any] = r.get("afterwards") or {}
    lines: list[Line] = []
    if r.get("outcome") == "share" and r.get("inform"):
        if after.get("informed"):
            told_at = when(after.get("informed_at")) or "a time not recorded"
            lines.append(("Person told", f"yes, at {told_at}"))
        elif after.get("informed") is False:
            text = f"not yet: {words(after.get('not_informed_reason') or 'no reason recorded')}"
            if after.get("review_on"):
                text += f"; to be reviewed on {when(after['review_on'])}"
            lines.append(("Person told", text))
        else:
            lines.append(("Person told", "not yet recorded"))
    withdrawal = after.get("consent_withdrawal")
    already = (r.get("consent") or {}).get("withdrawal")
    if withdrawal and not already:
        lines += [
            (f"{label} (after the decision)", value)
            for label, value in _withdrawal_lines(withdrawal, names)
        ]
    return lines


def _advice_lines(advice: Sequence[Mapping[str, Any]], names: Mapping[str, str]) -> list[Line]:
    lines: list[Line] = []
    for n, a in enumerate(advice, start=1):
        who = _person(a.get("advisor_id"), names)
        if a.get("capacity"):
            who += f", as {words(a['capacity'])}"
        if a.get("position"):
            who += f" ({a['position']})"
        review = " (review after an urgent share)" if a.get("review_after_urgent_share") else ""
        lines.append(
            (
                f"Advice {n}{review}",
                f"{who}: recommended {words(a.get('recommendation', ''))}; agreed to share "
                f"without consent: {_yes(a.get('agrees_to_share_without_consent'))}; "
                f"{a.get('advice', '')} ({when(a.get('given_at'))})",
            )
        )
    return lines or [("Advice taken", "none")]


def _shared_lines(r: Mapping[str, Any]) -> list[Line]:
    items = r.get("items") or []
    if r.get("outcome") != "share":
        return []
    lines: list[Line] = [("Shared with", str(r.get("shared_with", "")))]
    for n, i in enumerate(items, start=1):
        marks = [
            words(i.get("kind", "")),
            f"dated {when(i.get('dated'))}",
            *(["historical"] if i.get("historical") else []),
            *(["names someone not to be identified"] if i.get("protect_identity") else []),
        ]
        lines.append(
            (
                f"Item {n}",
                f"{i.get('description', '')}: {i.get('content', '')} "
                f"(source {i.get('source', '')}; {', '.join(marks)})",
            )
        )
    return lines


def _inform_lines(inform: Mapping[str, Any] | None) -> list[Line]:
    if not inform:
        return []
    if inform.get("will_inform"):
        return [("Person to be told", "yes")]
    text = f"no: {words(inform.get('reason_not', ''))}"
    if inform.get("review_on"):
        text += f"; reviewed on {when(inform['review_on'])}"
    return [("Person to be told", text)]
