"""The hub's policy file: one TOML file, read once per process, checked by the domain's models.

``MASHFLOW_POLICY_FILE`` names it; without it the example shipped beside this
module (``hub-policy.example.toml``, the defaults written out) is read. The
worker, the API and the CLI all come here, so every process counts deadlines
on the same policy. A file that does not parse or that the models refuse stops
the process at start, with one line naming the field. Bank holidays come from
the maintained ``holidays`` package for the region the file names, for the
years around now, and are added to any closure days the file lists.
"""

from __future__ import annotations

import functools
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import holidays
from pydantic import ValidationError

from domain.calendar import BankHolidayRegion
from domain.policy import HubPolicy
from infra.settings import ConfigurationError

EXAMPLE_FILE = Path(__file__).with_name("hub-policy.example.toml")
"""The defaults, written out: read when no policy file is named, and a start for one."""

SETTING = "MASHFLOW_POLICY_FILE"

HOLIDAY_YEARS = range(-1, 6)
"""Bank holidays are filled in from last year to five years ahead: every deadline, warning
and reminder of a request opened now falls well inside that."""

_SUBDIVISION = {
    BankHolidayRegion.ENGLAND_AND_WALES: "ENG",
    BankHolidayRegion.SCOTLAND: "SCT",
    BankHolidayRegion.NORTHERN_IRELAND: "NIR",
}


def bank_holidays(region: BankHolidayRegion, years: range) -> list[date]:
    """The region's bank holidays (substitute days included) in the given years."""
    subdivision = _SUBDIVISION.get(region)
    if subdivision is None:
        return []
    found = holidays.country_holidays("GB", subdiv=subdivision, years=list(years))
    return sorted(found)


def read_policy(path: Path | None = None, *, today: date | None = None) -> HubPolicy:
    """The policy in ``path`` (or the shipped defaults), with its region's bank holidays.

    Raises :class:`ConfigurationError` with one line: the setting, the file, and the
    first field the models refuse (``decision.amber: ...``).
    """
    source = path or EXAMPLE_FILE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{SETTING}: cannot read {source}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"{SETTING}: {source} is not valid TOML: {exc}") from None
    try:
        policy = HubPolicy.model_validate(data)
    except ValidationError as exc:
        raise ConfigurationError(f"{SETTING}: {source}: {_first_problem(exc)}") from None
    year = (today or datetime.now(UTC).date()).year
    years = range(year + HOLIDAY_YEARS.start, year + HOLIDAY_YEARS.stop)
    calendar = policy.calendar
    days = [*calendar.bank_holidays, *bank_holidays(calendar.bank_holiday_region, years)]
    return policy.model_copy(
        update={"calendar": calendar.model_validate({**dict(calendar), "bank_holidays": days})}
    )


@functools.lru_cache(maxsize=8)
def load_policy(path: Path | None = None) -> HubPolicy:
    """:func:`read_policy`, once per process: a file changed while the process runs takes
    effect when it restarts, never half-way through."""
    return read_policy(path)


def _first_problem(exc: ValidationError) -> str:
    # A misspelt field shows as both an unknown one and a missing one: name the spelling.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    field = ""
    for part in first["loc"]:
        field += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "not a policy field (check the spelling)"
    elif first["type"] == "missing":
        message = "missing (give every field of this part)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{field.lstrip('.') or 'policy'}: {message}{more}"
