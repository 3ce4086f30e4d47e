"""The benchmark's request accounting: per-tracker reads, 304s and writes, the physical minimum, the table."""

from __future__ import annotations

import json

import requests

from benchmarks.accounting import Row, Tally, pages, physical_minimum, render_table, tally
from benchmarks.bench_sync import _github_count, mutate
from connector.sandbox import GITHUB_TOKEN, JIRA_EMAIL, JIRA_TOKEN, RequestRecord, Sandbox


def record(method: str, status: int, flavour: str) -> RequestRecord:
    return RequestRecord(method, "/x", "", status, flavour, "endpoint", 0.0)


def test_tally_splits_trackers_reads_writes_and_304s():
    records = [record("GET", 200, "cloud"), record("GET", 200, "server"), record("PUT", 204, "cloud"),
               record("GET", 304, "github"), record("GET", 200, "github"), record("POST", 200, "github"),
               record("DELETE", 404, "github"), record("GET", 200, "")]
    out = tally(records)
    assert out["jira"] == Tally(reads=2, not_modified=0, writes=1)
    assert out["github"] == Tally(reads=1, not_modified=1, writes=2)
    assert out["github"].total == 4


def test_pages_and_physical_minimum():
    assert [pages(n) for n in (0, 1, 100, 101, 50_000)] == [1, 1, 1, 2, 500]
    assert physical_minimum({"project = A": 250, "acme/web": 0, "acme/api": 100}) == 3 + 1 + 1


def test_table_has_one_line_per_row_and_markdown_form():
    rows = [Row(1000, 0, "full sync", jira=Tally(30, 0, 0), github=Tally(7, 1, 0), seconds=1.5, peak_rss_mib=140.2,
                minimum=13),
            Row(1000, 50, "first apply", github=Tally(0, 0, 98))]
    text = render_table(rows).splitlines()
    assert len(text) == 4
    assert "30/0/0" in text[2] and "7/1/0" in text[2] and " 38 " in text[2] and "1.50" in text[2]
    markdown = render_table(rows, markdown=True).splitlines()
    assert markdown[0].startswith("| issues |") and markdown[1].startswith("|---")
    assert markdown[3].split("|")[6].strip() == "98"
    assert json.loads(json.dumps(rows[0].as_dict()))["requests"] == 38


def test_sandbox_counts_feed_the_tally():
    """The tally over a real sandbox log matches the requests sent, 304s included."""
    with Sandbox(seed=3, scale=200) as sb:
        gh = requests.Session()
        gh.headers["Authorization"] = f"token {GITHUB_TOKEN}"
        url = sb.github_url + "/repos/acme/infra/issues"
        first = gh.get(url, params={"state": "all", "per_page": 100}, timeout=10)
        again = gh.get(url, params={"state": "all", "per_page": 100}, headers={"If-None-Match": first.headers["ETag"]},
                       timeout=10)
        assert again.status_code == 304
        jira = requests.get(sb.jira_url + "/rest/api/3/myself", auth=(JIRA_EMAIL, JIRA_TOKEN), timeout=10)
        assert jira.status_code == 200
        out = tally(sb.log)
    assert out["github"] == Tally(reads=1, not_modified=1, writes=0)
    assert out["jira"] == Tally(reads=1, not_modified=0, writes=0)


def test_mutate_touches_one_percent_of_each_tracker_and_moves_the_clock():
    class Setup:  # the two attributes mutate() reads and writes
        def __init__(self, sandbox):
            self.sandbox, self.env = sandbox, {}

    sb = Sandbox(seed=3, scale=1000)
    before = sb.clock.now()
    jira_changed, github_changed = mutate(Setup(sb))
    jira_open = [i for i in sb.state.jira_issues.values() if not i.deleted]
    touched_jira = [i for i in jira_open if "bench-touched" in i.labels]
    touched_github = [i for r in sb.state.gh_issues.values() for i in r.values() if "bench-touched" in i.labels]
    assert len(touched_jira) == jira_changed == round(0.01 * len(jira_open))
    assert len(touched_github) == github_changed >= 1
    assert all(not i.is_pr for i in touched_github)
    assert (sb.clock.now() - before).total_seconds() == 600


def test_github_count_is_what_the_issue_list_serves():
    with Sandbox(seed=3, scale=1000) as sb:
        sb.delete_github_issue("acme/infra", 1)
        listed = requests.get(sb.github_url + "/repos/acme/infra/issues", params={"state": "all", "per_page": 100},
                              headers={"Authorization": f"token {GITHUB_TOKEN}"}, timeout=10).json()
        assert len(listed) < 100  # one page holds the whole answer
        assert _github_count(sb, "acme/infra") == len(listed)
