"""`plansync store info | prune | upgrade`, the settings behind them, and the prune step `run` takes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from connector.cli import app
from connector.settings import Settings
from connector.store import Store
from connector.store.engine import head_revision

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _config(tmp_path, url: str, **store) -> str:
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in store.items())
    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nurl = "{url}"\n{extra}\n'
                    '[trackers.gh]\nkind = "github"\nurl = "https://api.github.com"\ntoken_env = "GH_UNUSED"\n')
    return str(path)


def _old_runs(url: str, monkeypatch, days: int = 3) -> None:
    with Store.open(url) as store:
        for d in range(days):
            monkeypatch.setenv("PLANSYNC_NOW", (NOW - timedelta(days=100 + d)).isoformat())
            run = store.begin_run("run", ["gh"])
            store.finish_run(run, "success")
    monkeypatch.setenv("PLANSYNC_NOW", NOW.isoformat())


def test_info_shows_schema_rows_and_oldest_data(tmp_path, store_url, monkeypatch):
    _old_runs(store_url, monkeypatch)
    out = CliRunner().invoke(app, ["store", "info", "--config", _config(tmp_path, store_url)])
    assert out.exit_code == 0, out.output
    assert f"schema   {head_revision()} (current)" in out.output
    assert "rows     runs                       3" in out.output
    assert f"oldest   run             {(NOW - timedelta(days=102)).isoformat(timespec='seconds')}" in out.output
    as_json = CliRunner().invoke(app, ["store", "info", "--json", "--config", _config(tmp_path, store_url)])
    data = json.loads(as_json.output)
    assert data["rows"]["runs"] == 3 and data["keep_days"] == 400 and data["size_bytes"] > 0


def test_prune_applies_keep_days_from_the_option_or_the_config(tmp_path, store_url, monkeypatch):
    _old_runs(store_url, monkeypatch)
    config = _config(tmp_path, store_url, keep_days=400)
    kept = CliRunner().invoke(app, ["store", "prune", "--config", config])
    assert kept.exit_code == 0 and "0 runs" in kept.output
    out = CliRunner().invoke(app, ["store", "prune", "--keep-days", "30", "--config", config])
    assert out.exit_code == 0, out.output
    assert "3 runs" in out.output and "full history kept for 30 days" in out.output
    with Store.open(store_url) as store:
        assert store.runs() == []


def test_upgrade_migrates_an_old_store_once(tmp_path, store_url):
    with Store.open(store_url, migrate=False) as old:
        old.upgrade("0002")
    config = _config(tmp_path, store_url)
    first = CliRunner().invoke(app, ["store", "upgrade", "--config", config])
    assert first.exit_code == 0, first.output
    assert f"upgraded from 0002 to {head_revision()}" in first.output
    again = CliRunner().invoke(app, ["store", "upgrade", "--config", config])
    assert again.exit_code == 0 and f"is current ({head_revision()})" in again.output


def test_with_auto_migrate_off_commands_refuse_an_old_schema(tmp_path, sqlite_url):
    from connector.run import open_store

    with Store.open(sqlite_url, migrate=False) as old:
        old.upgrade("0003")
    config = _config(tmp_path, sqlite_url, auto_migrate=False)
    out = CliRunner().invoke(app, ["store", "prune", "--config", config])
    assert out.exit_code == 1
    assert "run `plansync store upgrade`" in str(out.exception)
    settings = Settings(store={"url": sqlite_url, "auto_migrate": False})
    with pytest.raises(Exception, match="schema is at 0003"):
        open_store(settings)
    with Store.open(sqlite_url, migrate=False) as still:
        assert still.schema_revision() == "0003"


def test_the_run_prune_step_uses_the_store_settings(store_url, monkeypatch):
    from types import SimpleNamespace

    from connector.pipeline import prune

    _old_runs(store_url, monkeypatch, days=5)
    settings = Settings(store={"url": store_url, "keep_days": 30, "prune_batch": 2})
    with Store.open(store_url) as store:
        run = SimpleNamespace(store=store, settings=settings)  # the two parts of a Run the step uses
        prune(run)
        assert len(store.runs()) == 3  # one bounded batch of two
        prune(run)
        prune(run)
        assert store.runs() == []
