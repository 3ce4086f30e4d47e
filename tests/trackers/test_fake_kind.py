"""A kind added through the registry alone (tests/trackers/fake_kind.py) works end to end: validate,
sync, plan and apply through the real CLI, in process, without any core file knowing it."""

from __future__ import annotations

import contextlib
import io
import json

import pytest

from connector.cli import main
from connector.trackers import registry
from tests.trackers import fake_kind
from tests.trackers.fake_kind import MemoIssue

CONFIG = """
[store]
url = "sqlite:///{db}"

[trackers.notes]
kind = "memo"
url = "http://memo.invalid"
token_env = "MEMO_TOKEN"
"""

PLAN = """
[plan]
name = "Memo plan"
timezone = "UTC"
start = 2026-10-05

[people.ana]
name = "Ana"
memo = "ana"

[[milestones]]
key = "beta"
title = "Beta"
due = 2027-06-01
owner = "ana"

  [[milestones.scope]]
  tracker = "notes"
  bucket = "beta"

[[watch]]
tracker = "notes"
bucket = "inbox"
"""


@pytest.fixture
def memo(tmp_path, monkeypatch):
    registry.register(fake_kind.KIND)
    monkeypatch.setenv("MEMO_TOKEN", "memo-secret")
    monkeypatch.setenv("PLANSYNC_NOW", "2026-11-20T10:00:00+00:00")
    monkeypatch.setenv("PLANSYNC_ALLOW_PINNED_NOW", "1")
    fake_kind.reset([MemoIssue(1, "beta", "first"), MemoIssue(2, "beta", "second", state="closed"),
                     MemoIssue(3, "inbox", "stray", labels=["keep-me"])])
    (tmp_path / "config.toml").write_text(CONFIG.format(db=tmp_path / "plansync.db"))
    (tmp_path / "plan.toml").write_text(PLAN)
    yield tmp_path
    registry.unregister("memo")


def cli(folder, *args):
    """The real entry point (`plansync ...`), in process so the test's registration is seen."""
    capture = io.StringIO()
    with contextlib.redirect_stdout(capture), contextlib.redirect_stderr(capture):
        try:
            main([*args, "-c", str(folder / "config.toml"), "-p", str(folder / "plan.toml")])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return code, capture.getvalue()


def test_validate_sync_plan_apply_on_a_kind_only_the_registry_knows(memo):
    code, out = cli(memo, "validate")
    assert code == 0, out
    assert "notes (memo)" in out and "OK" in out

    code, out = cli(memo, "sync")
    assert code == 0, out
    assert "outcome=success" in out and "items_pulled=3" in out

    code, out = cli(memo, "plan", "--no-sync", "--json")
    assert code == 0, out
    changes = {c["key"]: (c["add"], c["remove"]) for c in json.loads(out)["changes"]}
    assert set(changes) == {"M-1", "M-3"}  # the closed item carries no owned label
    assert changes["M-3"] == (["plan:unplanned"], [])
    assert len(changes["M-1"][0]) == 1 and changes["M-1"][0][0].startswith("plan:")

    code, out = cli(memo, "apply")
    assert code == 0, out
    assert {n for n, _, _ in fake_kind.WRITES} == {1, 3}
    assert "keep-me" in fake_kind.ISSUES[3].labels  # a label outside the prefix is never touched

    fake_kind.WRITES.clear()
    code, out = cli(memo, "apply")
    assert code == 0, out
    assert fake_kind.WRITES == []  # a second apply with unchanged input writes nothing


def test_a_bad_scope_and_an_unknown_identity_of_the_new_kind_are_exit_2(memo):
    plan = memo / "plan.toml"
    plan.write_text(PLAN.replace('bucket = "beta"', 'bucket = "beta"\n  repo = "acme/web"'))
    code, out = cli(memo, "validate")
    assert code == 2 and "Memo" in out and "`repo`" in out and "milestones[0].scope[0]" in out

    plan.write_text(PLAN.replace('memo = "ana"', 'gitlub = "ana"'))
    code, out = cli(memo, "validate")
    assert code == 2 and "people.ana.gitlub" in out


def test_without_registration_the_kind_is_unknown(tmp_path):
    (tmp_path / "config.toml").write_text(CONFIG.format(db=tmp_path / "plansync.db"))
    (tmp_path / "plan.toml").write_text(PLAN)
    code, out = cli(tmp_path, "validate")
    assert code == 2 and "memo" in out
