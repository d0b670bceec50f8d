"""The hub's policy file: the shipped example is the defaults, bank holidays come from the
maintained calendar for the region named, and a bad file stops every process at start
with one line naming the field (the CLI run as a real process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from domain.calendar import BankHolidayRegion
from domain.policy import HubPolicy
from domain.vocabulary import Rating
from infra.policy_file import EXAMPLE_FILE, bank_holidays, load_policy, read_policy
from infra.settings import ConfigurationError, load_settings

MASHFLOW = Path(sys.executable).parent / "mashflow"
TODAY = date(2031, 6, 1)


def test_the_shipped_example_is_the_defaults_with_the_bank_holidays_filled_in() -> None:
    policy = read_policy(today=TODAY)
    defaults = HubPolicy()
    assert policy.model_copy(update={"calendar": defaults.calendar}) == defaults
    assert policy.calendar.bank_holidays == bank_holidays(
        BankHolidayRegion.ENGLAND_AND_WALES, range(2030, 2037)
    )
    assert read_policy(EXAMPLE_FILE, today=TODAY) == policy


def test_bank_holidays_come_from_the_maintained_calendar_of_the_region_named() -> None:
    years = range(2031, 2032)
    england = bank_holidays(BankHolidayRegion.ENGLAND_AND_WALES, years)
    scotland = bank_holidays(BankHolidayRegion.SCOTLAND, years)
    ireland = bank_holidays(BankHolidayRegion.NORTHERN_IRELAND, years)
    assert date(2031, 4, 14) in england  # Easter Monday, not a holiday in Scotland
    assert date(2031, 4, 14) not in scotland
    assert date(2031, 12, 1) in scotland  # St Andrew's Day (30th is a Sunday)
    assert date(2031, 3, 17) in ireland  # St Patrick's Day
    assert bank_holidays(BankHolidayRegion.NONE, years) == []


def test_a_file_sets_every_field_and_adds_its_own_closure_days(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        EXAMPLE_FILE.read_text()
        .replace('amber = "24h"', 'amber = "8h"')
        .replace('working_hours_ratings = ["amber", "green"]', 'working_hours_ratings = ["green"]')
        .replace('bank_holiday_region = "england_and_wales"', 'bank_holiday_region = "scotland"')
        .replace("bank_holidays = []", "bank_holidays = [2031-12-24]")
        .replace("day_starts = 09:00:00", 'day_starts = "08:30"')
    )
    policy = read_policy(path, today=TODAY)
    assert policy.decision.amber.total_seconds() == 8 * 3600
    assert not policy.counts_working_hours(Rating.AMBER)
    assert policy.calendar.bank_holiday_region is BankHolidayRegion.SCOTLAND
    assert date(2031, 12, 24) in policy.calendar.bank_holidays
    assert date(2031, 12, 1) in policy.calendar.bank_holidays
    assert policy.calendar.day_starts.isoformat() == "08:30:00"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('amber = "24h"', 'amber = "96h"'),
            "decision: a more urgent rating may not have a longer window",
        ),
        (('timezone = "Europe/London"', 'timezone = "Europe/Londn"'), "calendar.timezone"),
        (("years = 35", "years = -1"), "retention.rules[0].period.years"),
        (("at_fraction = 0.75", "at_fractoin = 0.75"), "escalation[0].at_fractoin: not a policy"),
        (('record_type = "package"', 'record_type = "shared_decision"'), "retention.rules"),
        (("[decision]", "[decision"), "is not valid TOML"),
    ],
)
def test_a_bad_file_is_refused_in_one_line_naming_the_field(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(EXAMPLE_FILE.read_text().replace(*change, 1))
    with pytest.raises(ConfigurationError) as refused:
        read_policy(path)
    assert str(refused.value).startswith(f"MASHFLOW_POLICY_FILE: {path}")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_settings_read_the_file_at_load_so_a_missing_one_stops_the_process(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigurationError, match="MASHFLOW_POLICY_FILE: cannot read"):
        load_settings(policy_file=tmp_path / "absent.toml", environment="test")
    good = tmp_path / "policy.toml"
    good.write_text(EXAMPLE_FILE.read_text())
    settings = load_settings(policy_file=good, environment="test")
    assert settings.hub_policy() == load_policy(good)


def test_the_cli_shows_the_policy_it_reads_with_the_digest_requests_record(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(EXAMPLE_FILE.read_text().replace('amber = "24h"', 'amber = "8h"', 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")} | {
        "MASHFLOW_ENVIRONMENT": "test",
        "MASHFLOW_POLICY_FILE": str(path),
        "COLUMNS": "200",
    }
    run = [str(MASHFLOW), "policy"]
    shown = subprocess.run([*run, "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert (found["file"], found["digest"]) == (str(path), load_policy(path).digest())
    assert HubPolicy.model_validate(found["policy"]) == load_policy(path)
    words = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert "amber: decision 8 working hours (about one working day)" in words.stdout
    assert "allegation_against_staff: 50 years from case_closed, reviewed every 10" in (
        words.stdout
    )


def test_the_cli_refuses_to_start_on_a_bad_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(EXAMPLE_FILE.read_text().replace('green = "72h"', 'green = "soon"'))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASHFLOW_")} | {
        "MASHFLOW_ENVIRONMENT": "test",
        "MASHFLOW_POLICY_FILE": str(path),
        "MASHFLOW_DATA_DIR": str(tmp_path / "data"),
        "COLUMNS": "200",
    }
    for command in (["requests", "list"], ["worker"], ["api"]):
        done = subprocess.run(
            [str(MASHFLOW), *command], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, (command, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"error: MASHFLOW_POLICY_FILE: {path}: decision.green:"), line
    assert not (tmp_path / "data").exists()  # nothing started, nothing written
