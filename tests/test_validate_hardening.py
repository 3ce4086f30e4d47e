"""Issue #17 items 5, 7, 8 and 10 through the real CLI (in process): each a readable line and exit 2
from `validate`, never a traceback or a silent OK."""

from __future__ import annotations

import pytest

from tests.test_validate import CONFIG, PLAN, REPO, _write, run_cli

JIRA_MAPPING = (REPO / "mappings" / "jira.toml").read_text()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("PLANSYNC_NOW", "PLANSYNC_ALLOW_PINNED_NOW", "PLANSYNC_LABELS__PREFIX"):
        monkeypatch.delenv(name, raising=False)


def validate(tmp_path, config=CONFIG, plan=PLAN, mapping=None):
    config_path, plan_path = _write(tmp_path, config, plan, mapping)
    return run_cli("validate", "--config", str(config_path), "--plan", str(plan_path))


@pytest.mark.parametrize("prefix", ["plan: ", "my plan:", "plan:\t"])
def test_a_prefix_jira_cannot_take_is_exit_2(tmp_path, prefix):
    code, _, err = validate(tmp_path, CONFIG.replace('prefix = "plan:"', f'prefix = "{prefix}"'.replace("\t", "\\t")))
    assert code == 2, err
    assert "labels.prefix" in err and "Jira labels cannot contain spaces" in err and "config.toml:" in err


def test_a_prefix_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANSYNC_LABELS__PREFIX", "my plan:")
    code, _, err = validate(tmp_path)
    assert code == 2 and "environment variable PLANSYNC_LABELS__PREFIX" in err and "config.toml:" not in err


@pytest.mark.parametrize("mapping, message", [
    ("", "status_category: required key is missing"),
    (JIRA_MAPPING.replace('done = "done"', 'don = "done"', 1), "unknown status category 'don'"),
    (JIRA_MAPPING.replace('indeterminate = "in_progress"\n', "", 1), "missing: indeterminate"),
])
def test_an_empty_or_mistyped_jira_mapping_is_exit_2(tmp_path, mapping, message):
    code, _, err = validate(tmp_path, mapping=mapping)
    assert code == 2, err
    assert "jira.toml" in err and message in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["garbage", "2026-13-01", "9999-12-31", "0001-01-01T00:00:00Z"])
def test_a_bad_plansync_now_is_exit_2(tmp_path, monkeypatch, value):
    monkeypatch.setenv("PLANSYNC_NOW", value)
    code, _, err = validate(tmp_path)
    assert code == 2, err
    assert "PLANSYNC_NOW" in err and "Traceback" not in err


def test_a_good_plansync_now_is_noted(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANSYNC_NOW", "2026-11-20T10:00:00Z")
    code, out, _ = validate(tmp_path)
    assert code == 0 and "PLANSYNC_NOW pins the clock" in out


def test_psycopg2_url_is_exit_2_with_the_supported_forms(tmp_path):
    code, _, err = validate(tmp_path, CONFIG.replace('url = "sqlite:///plansync.db"',
                                                     'url = "postgresql+psycopg2://u@db/plansync"', 1))
    assert code == 2, err
    assert "store.url" in err and "postgresql+psycopg://" in err and "ModuleNotFoundError" not in err


def test_an_unparsable_list_override_says_json_is_expected(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANSYNC_REPORT__FORMATS", "md,html")
    code, _, err = validate(tmp_path)
    assert code == 2 and "PLANSYNC_REPORT__FORMATS" in err and "expected JSON" in err


def test_a_bad_override_names_the_variable_not_a_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PLANSYNC_SYNC__CENSUS_EVERY", "often")
    code, _, err = validate(tmp_path)
    assert code == 2 and "environment variable PLANSYNC_SYNC__CENSUS_EVERY" in err and "config.toml:" not in err


def test_a_github_url_that_is_no_api_root_is_warned_about(tmp_path):
    code, out, _ = validate(tmp_path, CONFIG.replace('url = "https://api.github.com"', 'url = "https://github.com"'))
    assert code == 0 and "warning github: url https://github.com" in out and "https://api.github.com" in out
    code, out, _ = validate(tmp_path, CONFIG.replace('url = "https://api.github.com"',
                                                     'url = "https://ghe.example.com/issues"'))
    assert code == 0 and "/api/v3" in out
