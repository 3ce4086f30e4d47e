"""A GitHub-shaped host made of `responses` callbacks: enough of the REST API for the shared adapter
contract, so an adapter can pass the contract before any sandbox flavour exists for its kind.

It is a host, not a script of expected calls: each test uses some endpoints, so unfired ones are fine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import responses

BASE = "https://api.github.test"
TOKEN = "host-token"
_T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class HostIssue:
    number: int
    title: str
    labels: list[str] = field(default_factory=list)
    state: str = "open"
    updated: datetime = _T0


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GithubHost:
    """Repos of issues behind `responses`; `now` moves forward with every edit."""

    def __init__(self, mock: responses.RequestsMock, repos: dict[str, list[HostIssue]]) -> None:
        self.repos = repos
        self.now = _T0 + timedelta(hours=1)
        for method, pattern, handler in (
                ("GET", r"/user$", self._user),
                ("GET", r"/repos/([^/]+/[^/]+)/issues$", self._list),
                ("GET", r"/repos/([^/]+/[^/]+)/issues/(\d+)$", self._one),
                ("GET", r"/repos/([^/]+/[^/]+)/milestones$", self._milestones),
                ("POST", r"/repos/([^/]+/[^/]+)/issues/(\d+)/labels$", self._add),
                ("DELETE", r"/repos/([^/]+/[^/]+)/issues/(\d+)/labels/([^/?]+)$", self._remove)):
            # PyGithub writes the port into the URL (https://host:443/...)
            mock.add_callback(method, re.compile(re.escape(BASE) + r"(:443)?" + pattern.rstrip("$") + r"(\?.*)?$"),
                              callback=self._authorized(pattern, handler))

    def issue(self, repo: str, number: int) -> HostIssue:
        return next(i for i in self.repos[repo] if i.number == number)

    def touch(self, repo: str, number: int, **changes) -> None:
        issue = self.issue(repo, number)
        for key, value in changes.items():
            setattr(issue, key, value)
        self.now += timedelta(minutes=1)
        issue.updated = self.now

    # --- the API ---------------------------------------------------------------------------------
    def _authorized(self, pattern: str, handler):
        def answer(request):
            if request.headers.get("Authorization") not in (f"token {TOKEN}", f"Bearer {TOKEN}"):
                return 401, {"Content-Type": "application/json"}, json.dumps(
                    {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
            path = urlparse(request.url).path
            match = re.search(pattern, path)
            return handler(request, *match.groups())
        return answer

    def _json(self, body, status: int = 200, headers: dict | None = None):
        return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(body)

    def _payload(self, repo: str, issue: HostIssue) -> dict:
        return {"id": 10_000 + issue.number, "node_id": f"I_{issue.number}", "number": issue.number,
                "title": issue.title, "state": issue.state, "state_reason": "completed" if issue.state == "closed"
                else None, "labels": [{"name": n} for n in issue.labels], "assignees": [], "milestone": None,
                "html_url": f"https://github.test/{repo}/issues/{issue.number}",
                "repository_url": f"{BASE}/repos/{repo}", "created_at": _iso(_T0), "updated_at": _iso(issue.updated),
                "closed_at": _iso(issue.updated) if issue.state == "closed" else None, "body": ""}

    def _user(self, request):
        return self._json({"login": "plansync-bot", "id": 1, "type": "Bot"})

    def _list(self, request, repo):
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        issues = sorted(self.repos.get(repo, []), key=lambda i: (i.updated, i.number))
        if "since" in query:
            since = datetime.fromisoformat(query["since"].replace("Z", "+00:00"))
            issues = [i for i in issues if i.updated >= since]
        size, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        last = max(1, -(-len(issues) // size))
        chunk = issues[(page - 1) * size: page * size]
        links = []
        if page < last:
            links += [f'<{BASE}/repos/{repo}/issues?{_with(query, page + 1)}>; rel="next"',
                      f'<{BASE}/repos/{repo}/issues?{_with(query, last)}>; rel="last"']
        headers = {"Link": ", ".join(links)} if links else {}
        return self._json([self._payload(repo, i) for i in chunk], headers=headers)

    def _one(self, request, repo, number):
        return self._json(self._payload(repo, self.issue(repo, int(number))))

    def _milestones(self, request, repo):
        return self._json([])

    def _add(self, request, repo, number):
        issue = self.issue(repo, int(number))
        for name in json.loads(request.body)["labels"]:
            if name not in issue.labels:
                issue.labels.append(name)
        return self._json([{"name": n} for n in issue.labels])

    def _remove(self, request, repo, number, name):
        issue = self.issue(repo, int(number))
        name = unquote(name)
        if name not in issue.labels:
            return self._json({"message": "Label does not exist"}, 404)
        issue.labels.remove(name)
        return self._json([{"name": n} for n in issue.labels])


def _with(query: dict, page: int) -> str:
    return "&".join(f"{k}={v}" for k, v in {**query, "page": page}.items())
