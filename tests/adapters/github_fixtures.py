"""Recorded GitHub exchanges (PyGithub ReplayData, octokit/fixtures) turned into `responses` registrations.

The recordings answer the requests PyGithub's and octokit's own tests made; our adapter asks slightly
different URLs (state=all, per_page=100, ...), so tests pick a recorded answer (status, headers, body)
and register it for the URL the adapter must ask.
"""

from __future__ import annotations

import ast
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import responses

from connector.trackers.github.config import GithubTrackerSettings

REFDATA = Path(__file__).resolve().parents[2].parent / "shared" / "refdata" / "github-replay"
REPLAY = REFDATA / "pygithub" / "ReplayData"
OCTOKIT = REFDATA / "octokit-fixtures"
API = "https://api.github.com"
TOKEN_ENV = "PLANSYNC_TEST_GITHUB_TOKEN"
TOKEN = "ghp_test_secret_token_value_0123456789"
# hop-by-hop and encoding headers describe the recorded transfer, not the payload we replay
_DROP = {"status", "content-length", "content-encoding", "transfer-encoding", "connection"}


@dataclass(frozen=True)
class Record:
    """One recorded exchange."""

    verb: str
    host: str
    path: str
    request_headers: dict
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str

    def json(self):
        return json.loads(self.body) if self.body else None

    def reply_headers(self, **overrides: str) -> dict[str, str]:
        out = {name: value for name, value in self.headers if name.lower() not in _DROP}
        lowered = {name.lower(): name for name in out}
        for name, value in overrides.items():
            name = name.replace("_", "-")
            out.pop(lowered.get(name.lower(), name), None)
            out[name] = value
        return out


def _need_refdata() -> None:
    """Skip (only) where ../shared/refdata is absent from this checkout."""
    if not REFDATA.is_dir():
        pytest.skip("../shared/refdata is absent on this checkout")


def load_replay(name: str) -> list[Record]:
    """The records of `ReplayData/<name>.txt`, in order (format: shared/refdata/README.md)."""
    _need_refdata()
    lines = (REPLAY / f"{name}.txt").read_text(encoding="utf-8").split("\n")
    records, i = [], 0
    while i + 9 < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        protocol, verb, host, _port, path, req_headers, _req_body, status, headers, body = (
            line.strip() for line in lines[i:i + 10])
        assert protocol in ("http", "https"), f"{name}: unexpected record start {protocol!r}"
        records.append(Record(verb, host, path, ast.literal_eval(req_headers), int(status),
                              tuple(ast.literal_eval(headers)), body))
        i += 11
    return records


def load_octokit(scenario: str, *, include_setup: bool = False) -> list[Record]:
    """The exchanges of an octokit/fixtures scenario; setup/teardown requests are left out by default."""
    _need_refdata()
    out = []
    for entry in json.loads((OCTOKIT / scenario / "raw-fixture.json").read_text(encoding="utf-8")):
        if not include_setup and (entry.get("reqheaders") or {}).get("x-octokit-fixture-ignore") == "true":
            continue
        raw = entry["rawHeaders"]
        body = entry["response"]
        out.append(Record(entry["method"].upper(), entry["scope"], entry["path"], entry.get("reqheaders") or {},
                          int(entry["status"]), tuple(zip(raw[::2], raw[1::2], strict=True)),
                          body if isinstance(body, str) else json.dumps(body)))
    return out


def find(records: list[Record], verb: str, path_start: str, status: int | None = None) -> Record:
    for record in records:
        if record.verb == verb and record.path.startswith(path_start) and (status is None or record.status == status):
            return record
    raise LookupError(f"no recorded {verb} {path_start} ({status})")


def register(rsps: responses.RequestsMock, method: str, url: str, record: Record | None = None, *,
             status: int | None = None, body: str | list | dict | None = None, headers: dict | None = None,
             match: tuple = ()) -> responses.BaseResponse:
    """Register one answer: a recorded one (optionally with status/body/headers replaced) or a made-up one."""
    reply_headers = record.reply_headers() if record else {}
    reply_headers.update(headers or {})
    if body is None:
        body = record.body if record else ""
    elif not isinstance(body, str):
        body = json.dumps(body)
    url = with_port(url)
    content_type = "application/json; charset=utf-8"
    for name in [n for n in reply_headers if n.lower() == "content-type"]:
        content_type = reply_headers.pop(name)
    return rsps.add(method, url, body=body, status=status if status is not None else (record.status if record else 200),
                    headers=reply_headers, content_type=content_type, match=match)


def with_port(url: str) -> str:
    """PyGithub's connection always writes the port (https://host:443/...); responses matches literally."""
    parts = urlsplit(url)
    if parts.port is None and parts.hostname:
        port = 443 if parts.scheme == "https" else 80
        parts = parts._replace(netloc=f"{parts.netloc}:{port}")
    return urlunsplit(parts)


def issue_payloads() -> list[dict]:
    """Real issue list payloads: PyGithub's /repos/PyGithub/PyGithub/issues page (includes a PR)."""
    return find(load_replay("Repository.testGetIssues"), "GET", "/repos/PyGithub/PyGithub/issues").json()


def modern_issue() -> dict:
    """A 2025 single-issue payload (state_reason, type, sub_issues_summary, ...): PyGithub issue #28."""
    return find(load_replay("Issue.setUp"), "GET", "/repos/PyGithub/PyGithub/issues/28").json()


def clone_issues(template: dict, repo: str, count: int, *, start_id: int = 9_000_000) -> list[dict]:
    """`count` distinct issues shaped exactly like a recorded one, numbered 1..count, updated in order."""
    out = []
    for n in range(1, count + 1):
        issue = copy.deepcopy(template)
        issue.pop("pull_request", None)
        issue.update(id=start_id + n, number=n, url=f"{API}/repos/{repo}/issues/{n}",
                     repository_url=f"{API}/repos/{repo}", html_url=f"https://github.com/{repo}/issues/{n}",
                     title=f"{template.get('title', 'issue')} {n}",
                     updated_at=f"2026-05-{1 + n // 1440:02d}T{(n // 60) % 24:02d}:{n % 60:02d}:00Z",
                     created_at="2026-04-01T00:00:00Z")
        out.append(issue)
    return out


def tracker_settings(monkeypatch, url: str = API, *, name: str = "gh", **extra) -> GithubTrackerSettings:
    """A configured GitHub tracker whose token sits in a test-only environment variable."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    tracker = GithubTrackerSettings(kind="github", url=url, token_env=TOKEN_ENV, **extra)
    tracker._name = name
    return tracker
