"""The reliability suite's fault cases and secret checks for the GitLab kind: a workspace with all three
trackers (the demo's config and plan), GitLab faults on pull and on label writes (429 with Retry-After,
5xx, dropped connections, a token revoked mid-run), and the GitLab token kept out of every output."""

from __future__ import annotations

import sqlite3

import pytest

from connector import clock
from connector.sandbox import GITLAB_TOKEN
from connector.sandbox.demo import write_config, write_plan
from tests.reliability.harness import PREFIX, assert_no_traceback, failure_lines, make_workspace, record

ISSUES = r"^/gitlab/api/v4/projects/.+/issues$"
ISSUE_PUT = r"^/gitlab/api/v4/projects/.+/issues/\d+$"


@pytest.fixture
def _no_real_sleep(monkeypatch):
    monkeypatch.setattr(clock, "sleep", lambda seconds: None)


@pytest.fixture
def gitlab_workspace(tmp_path, sandbox_factory):
    def make(name: str = "ws"):
        sb = sandbox_factory(seed=3, scale=120)
        ws = make_workspace(tmp_path / name, sb)
        write_config(ws.folder, sb, store_url=ws.store_url, gitlab=True)
        write_plan(ws.folder, sb.org, gitlab=True)
        return ws
    return make


def gitlab_owned(sb) -> dict[str, frozenset[str]]:
    with sb.state.lock:
        found = {f"{i.project}#{i.iid}": frozenset(x for x in i.labels if x.startswith(PREFIX))
                 for i in sb.gitlab.issues.values() if not i.deleted}
    return {k: v for k, v in found.items() if v}


def accepted_puts(sb) -> int:
    return sum(1 for r in sb.log if r.endpoint_name == "gitlab.issue_edit" and r.method == "PUT" and r.status == 200)


@pytest.fixture
def gitlab_reference(gitlab_workspace):
    ws = gitlab_workspace("reference")
    result = ws.main("apply")
    assert result.code == 0, str(result)
    labels = gitlab_owned(ws.sandbox)
    assert labels, "the reference run labelled nothing on GitLab: the cases would prove nothing"
    return labels, accepted_puts(ws.sandbox)


FAULTS = [
    ("429 with Retry-After on the issue list", dict(method="GET", path=ISSUES, status=429, times=2,
                                                     headers={"Retry-After": "3"}, body="Retry later")),
    ("502 on the issue list", dict(method="GET", path=ISSUES, status=502, times=2)),
    ("dropped connection on the issue list", dict(kind="drop", method="GET", path=ISSUES, times=1)),
    ("429 on a label write", dict(method="PUT", path=ISSUE_PUT, status=429, times=1, headers={"Retry-After": "2"},
                                  body="Retry later")),
    ("500 on a label write", dict(method="PUT", path=ISSUE_PUT, status=500, times=1,
                                  body={"message": "500 Internal Server Error"})),
]


@pytest.mark.parametrize("name,rule", FAULTS, ids=[f[0] for f in FAULTS])
def test_a_transient_gitlab_fault_recovers_with_the_labels_of_a_clean_run(name, rule, gitlab_workspace,
                                                                         gitlab_reference, _no_real_sleep):
    reference, reference_puts = gitlab_reference
    ws = gitlab_workspace("faulty")
    fault = ws.sandbox.faults.add(**rule)
    result = ws.main("apply")
    assert fault.hits >= 1, "the fault never fired: this case would prove nothing"
    assert_no_traceback(result)
    assert result.code == 0, str(result)
    assert gitlab_owned(ws.sandbox) == reference
    assert accepted_puts(ws.sandbox) == reference_puts  # no write made twice
    record(f"gitlab: {name}", "recovers", 0)


def test_a_gitlab_token_revoked_mid_run_fails_only_gitlab(gitlab_workspace, _no_real_sleep):
    ws = gitlab_workspace()
    ws.sandbox.faults.add(method=None, path=r"^/gitlab/", status=401, after=2, times=None,
                          body={"message": "401 Unauthorized"})
    result = ws.main("apply")
    assert_no_traceback(result)
    assert result.code == 1, str(result)
    lines = failure_lines(result)
    assert any("gitlab" in line for line in lines) and not any("'jira'" in line or "'github'" in line
                                                                  for line in lines), lines
    assert GITLAB_TOKEN not in result.text
    # the others are pulled and finish; milestones fed by GitLab keep their labels on every tracker
    # (source isolation), work outside them is still labelled
    assert sum(1 for r in ws.sandbox.log if r.flavour == "github" and r.method == "GET") > 0
    assert "labels held" in result.text
    assert sum(1 for r in ws.sandbox.log if r.flavour in ("cloud", "server", "github") and r.method != "GET") > 0
    record("gitlab: token revoked mid-run", "that tracker fails, the others finish", 0)


def test_the_gitlab_token_never_leaks_at_debug_level(gitlab_workspace, _no_real_sleep):
    ws = gitlab_workspace()
    ws.env["PLANSYNC_REPORT__FORMATS"] = '["md", "json"]'
    texts = []
    for faults in (False, True):
        if faults:
            ws.sandbox.faults.add(method=None, path=r"^/gitlab/", status=401, after=1, times=None,
                                  body={"message": "401 Unauthorized"})
        for command in (("validate",), ("doctor",), ("sync",), ("apply",), ("report",), ("sync", "--full")):
            result = ws.main(*command, global_args=("--log-level", "debug"))
            assert_no_traceback(result)
            texts.append(result.text)
        ws.sandbox.faults.clear()
    assert sum(len(t.splitlines()) for t in texts) > 50, "debug logging produced almost nothing"
    assert all(GITLAB_TOKEN not in t for t in texts)
    with sqlite3.connect(ws.folder / "plansync.db") as conn:
        assert GITLAB_TOKEN not in "\n".join(conn.iterdump())
    for path in ws.folder.rglob("*"):
        if path.is_file() and not path.name.startswith("plansync.db"):
            assert GITLAB_TOKEN not in path.read_text(errors="replace"), path
    record("secrets: the GitLab token at debug, with and without faults", "0 leaks", 0)
