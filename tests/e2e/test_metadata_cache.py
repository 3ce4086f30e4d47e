"""Reads at the minimum: tracker metadata (Jira's /field and /myself, GitHub's milestone ETags) is
kept in the store with an expiry, so a quiet incremental sync costs exactly one request per scope (the
GitHub ones 304), and a census soon after another reuses what the first one fetched."""

from __future__ import annotations

import pytest

from connector.run import load_inputs
from connector.sandbox.demo import write_plan
from tests.e2e.helpers import make_workspace

pytestmark = pytest.mark.e2e


def _scopes(ws) -> tuple[int, int]:
    _, _, declared = load_inputs(ws.config, ws.plan)
    scopes = declared.all_scopes()
    jira = {s.jql for s in scopes if getattr(s, "jql", None)}
    repos = {s.repo for s in scopes if getattr(s, "repo", None)}
    return len(jira), len(repos)


def _sync(ws, sb, *args: str) -> list:
    sb.reset_counts()
    proc = ws.cli("sync", *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return list(sb.log)


def test_a_quiet_incremental_sync_costs_one_request_per_scope(tmp_path, sandbox):
    ws = make_workspace(tmp_path, sandbox, write_plan(tmp_path, sandbox.org).read_text())
    jira_scopes, repos = _scopes(ws)
    first = _sync(ws, sandbox)  # the first sync is a census: it fetches and caches the metadata
    assert sum("/field" in r.path for r in first) == 1
    _sync(ws, sandbox)  # stores the GitHub ETags
    quiet = _sync(ws, sandbox)
    assert len(quiet) == jira_scopes + repos, sorted(r.path for r in quiet)
    assert sum("/search" in r.path for r in quiet) == jira_scopes
    github = [r for r in quiet if "/repos/" in r.path]
    assert len(github) == repos and all(r.status == 304 for r in github)
    assert not [r for r in quiet if "/field" in r.path or "/myself" in r.path]


def test_a_census_soon_after_another_reuses_the_cached_metadata_and_reads_milestones_by_etag(tmp_path, sandbox):
    ws = make_workspace(tmp_path, sandbox, write_plan(tmp_path, sandbox.org).read_text())
    first = _sync(ws, sandbox, "--full")
    assert sum("/field" in r.path for r in first) == 1
    # the versions and sprints come with the items: neither the versions API nor the Agile API is asked
    assert not [r for r in first if "/agile/" in r.path or r.path.endswith("/version")]
    sandbox.clock.advance(minutes=30)
    again = _sync(ws, sandbox, "--full")
    assert not [r for r in again if "/field" in r.path]
    milestones = [r for r in again if r.path.endswith("/milestones")]
    assert milestones and all(r.status == 304 for r in milestones)
    # once the entries are older than half the ttl, a census refreshes them
    sandbox.clock.advance(hours=13)
    later = _sync(ws, sandbox, "--full")
    assert sum("/field" in r.path for r in later) == 1
