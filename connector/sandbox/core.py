"""The Sandbox object: generated state, the loopback server, and helpers tests use to mutate state."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from email.utils import formatdate
from zoneinfo import ZoneInfo

from werkzeug.serving import WSGIRequestHandler, make_server

from . import simulate as _simulate
from .faults import Faults, RequestLog
from .generator import build_state, org_description
from .gitlab_state import build_gitlab
from .server import App, control_json
from .state import Clock, GithubIssue, JiraIssue


class _QuietHandler(WSGIRequestHandler):
    def log(self, type, message, *args):  # the request log is ours; keep test output clean
        pass

    def date_time_string(self, timestamp=None):  # the Date header tells the sandbox's clock, as a server's does
        return formatdate(self.server.app.sb.clock.ts(), usegmt=True)


class Sandbox:
    """Jira Cloud, Jira Server and GitHub look-alikes on one loopback port (see the package docstring)."""

    def __init__(self, seed: int = 1, scale: int = 2000, latency_ms: float = 0, *,
                 now: datetime | str | None = None, jira_timezone: str = "UTC",
                 github_rate_limit: int = 5000, jira_server_max_results: int = 1000, validate: bool = False):
        self.seed, self.scale = seed, scale
        self.latency_ms = latency_ms
        self._jira_timezone = jira_timezone
        self.github_rate_limit = github_rate_limit
        self.jira_server_max_results = jira_server_max_results
        self.clock = Clock(now)
        self.github_token_scopes = "repo, read:org"  # X-OAuth-Scopes of its GitHub token (None: fine-grained)
        self.tick_seconds = 0.0  # the clock advances this much per API request (e.g. tokens expiring mid-run)
        self.state = build_state(seed, scale, self.clock.ts())
        self.gitlab = build_gitlab(seed, scale, self.clock.ts(), self.state.people, self.state.lock)
        self.jira_timezone = jira_timezone
        self.faults = Faults()
        self.log_ = RequestLog()
        self.jql_cache: dict = {}
        self.gh_cache: dict = {}
        self._budgets: dict[str, dict] = {}
        self.github_content_limits = None  # a github_limits.ContentLimits: secondary limits on writes
        self._ms_counts: tuple[int, dict] = (-1, {})
        self._server = None
        self._thread = None
        # validate=True: every exchange is checked against the vendors' OpenAPI descriptions (needs the
        # dev extra's openapi-core and ../shared/refdata); see .validation and .spec_exceptions
        self.validator = None
        if validate:
            from .validation import Validator
            self.validator = Validator()
        self.url = self.jira_url = self.jira_server_url = self.github_url = self.gitlab_url = ""

    @property
    def jira_timezone(self) -> str:
        """The bot user's Jira profile zone: /myself reports it, JQL dates and rendered times use it."""
        return self._jira_timezone

    @jira_timezone.setter
    def jira_timezone(self, name: str) -> None:
        self._jira_timezone = name
        self.state.render_tz = ZoneInfo(name)
        self.state.bump()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        self._server = make_server(host, port, App(self), threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_port}"
        self.jira_url, self.jira_server_url = self.url + "/jira", self.url + "/jira-server"
        self.github_url = self.url + "/github"
        self.gitlab_url = self.url + "/gitlab"
        self._thread = threading.Thread(target=self._server.serve_forever, name="plansync-sandbox", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait(self) -> None:
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def __enter__(self):
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- observation ----------------------------------------------------------------------------
    @property
    def log(self):
        return list(self.log_.records)

    @property
    def violations(self) -> list:
        """OpenAPI violations seen so far (validate=True only), outside the documented spec exceptions."""
        return self.validator.violations if self.validator else []

    def count(self, method=None, endpoint=None, flavour=None, status=None) -> int:
        return self.log_.count(method, endpoint, flavour, status)

    def counts(self) -> dict:
        return self.log_.counts()

    def reset_counts(self) -> None:
        self.log_.reset()

    @property
    def org(self) -> dict:
        with self.state.lock:
            return org_description(self.state, self.clock.ts()) | {"gitlab": self.gitlab.describe()}

    def simulate(self, days: float = 7) -> dict:
        with self.state.lock:
            start = self.clock.ts()
            return _simulate.run(self, days) | self.gitlab.simulate(start, days, self.seed)

    # -- GitHub budget --------------------------------------------------------------------------
    def gh_budget(self, auth: str, spend: bool = False) -> dict:
        token = auth.partition(" ")[2] or "anonymous"
        now = int(self.clock.ts())
        with self.state.lock:
            b = self._budgets.get(token)
            if b is None or now >= b["reset"]:
                b = self._budgets[token] = {"used": 0, "reset": now + 3600}
            if spend and b["used"] < self.github_rate_limit:
                b["used"] += 1
            return {"limit": self.github_rate_limit, "remaining": self.github_rate_limit - b["used"],
                    "reset": b["reset"], "used": b["used"], "resource": "core"}

    def gh_exhausted(self, auth: str) -> bool:
        return self.gh_budget(auth)["remaining"] <= 0

    def milestone_counts(self) -> dict:
        version, counts = self._ms_counts
        if version != self.state.version:
            counts = {}
            for repo, issues in self.state.gh_issues.items():
                for i in issues.values():
                    if i.milestone and not i.deleted and not i.transferred_to:
                        o, c = counts.get((repo, i.milestone), (0, 0))
                        counts[(repo, i.milestone)] = (o + (i.state == "open"), c + (i.state == "closed"))
            self._ms_counts = (self.state.version, counts)
        return counts

    # -- direct state access and mutation ---------------------------------------------------------
    def jira_issue(self, key: str) -> JiraIssue:
        i = self.state.jira_by_key(key)
        if i is None:
            raise KeyError(key)
        return i

    def github_issue(self, repo: str, number: int) -> GithubIssue:
        return self.state.gh_issues[repo][number]

    def _touch_jira(self, i: JiraIssue, items: list) -> None:
        i.updated = self.clock.ts()
        if items:
            i.history.append((i.updated, 0, items))
        self.state.bump()

    def update_jira_issue(self, key: str, *, status=None, labels=None, fix_versions=None, resolution=None,
                          summary=None, assignee=None, sprints=None, duedate=None) -> JiraIssue:
        """Change fields as a user would; fix_versions are names (or ids), assignee a person key or None."""
        from .generator import JIRA_STATUSES, RESOLUTIONS
        with self.state.lock:
            i = self.jira_issue(key)
            items = []
            if status is not None and status != i.status:
                items.append(("status", JIRA_STATUSES[i.status][0], i.status, JIRA_STATUSES[status][0], status))
                i.status = status
                if JIRA_STATUSES[status][1] == "done":
                    i.resolution = resolution or i.resolution or ("Done" if status == "Done" else "Won't Do")
                    i.resolved = self.clock.ts()
                    items.append(("resolution", None, None, RESOLUTIONS[i.resolution], i.resolution))
                else:
                    i.resolution = i.resolved = None
            elif resolution is not None:
                i.resolution = resolution
            if labels is not None and list(labels) != i.labels:
                items.append(("labels", None, " ".join(i.labels), None, " ".join(labels)))
                i.labels = list(labels)
            if fix_versions is not None:
                proj = self.state.projects[i.project]["versions"]
                ids = [v if isinstance(v, int) else next(x for x in proj if self.state.versions[x]["name"] == v)
                       for v in fix_versions]
                for old in set(i.fix_versions) - set(ids):
                    items.append(("Fix Version", str(old), self.state.versions[old]["name"], None, None))
                for new in set(ids) - set(i.fix_versions):
                    items.append(("Fix Version", None, None, str(new), self.state.versions[new]["name"]))
                i.fix_versions = ids
            if summary is not None:
                items.append(("summary", None, i.summary, None, summary))
                i.summary = summary
            if assignee is not None or assignee is False:
                i.assignee = None if assignee is False else self._person(assignee)
                items.append(("assignee", None, None, None, str(assignee)))
            if sprints is not None:
                i.sprints = list(sprints)
            if duedate is not None:
                i.duedate = duedate or None
            self._touch_jira(i, items)
            return i

    def _person(self, who) -> int:
        idx = self.state.person_by_account(who) if isinstance(who, str) else who
        if idx is None:
            raise KeyError(who)
        return idx

    def create_jira_issue(self, project: str, summary: str, *, issuetype: str = "Story", status: str = "To Do",
                          labels=(), fix_versions=(), assignee=None, description: str = "") -> JiraIssue:
        with self.state.lock:
            st = self.state
            num = 1 + max(int(k.rsplit("-", 1)[1]) for k in st.jira_keys if k.startswith(project + "-"))
            now = self.clock.ts()
            i = JiraIssue(id=st.next_jira_id, key=f"{project}-{num}", project=project, issuetype=issuetype,
                          summary=summary, description=description, status="To Do", reporter=0, created=now,
                          updated=now, assignee=self._person(assignee) if assignee else None, labels=list(labels))
            st.next_jira_id += 1
            st.jira_issues[i.id] = i
            st.jira_keys[i.key] = i.id
            st.bump()
        if fix_versions or status != "To Do":
            self.update_jira_issue(i.key, fix_versions=list(fix_versions), status=status)
        return i

    def delete_jira_issue(self, key: str) -> None:
        with self.state.lock:
            self.jira_issue(key).deleted = True
            self.state.bump()

    def move_jira_issue(self, key: str, new_project: str) -> JiraIssue:
        """Move to another project: the key changes, the id stays, the old key keeps resolving."""
        with self.state.lock:
            st = self.state
            i = self.jira_issue(key)
            old = i.key
            num = 1 + max(int(k.rsplit("-", 1)[1]) for k in st.jira_keys if k.startswith(new_project + "-"))
            i.old_keys.append(old)
            i.key, i.project = f"{new_project}-{num}", new_project
            i.fix_versions = []  # versions are per project
            st.jira_keys[i.key] = i.id
            self._touch_jira(i, [("Key", None, old, None, i.key)])
            return i

    def add_jira_comment(self, key: str, body: str, author: int = 0) -> dict:
        with self.state.lock:
            i = self.jira_issue(key)
            c = {"id": self._next_comment(), "author": author, "body": body, "created": self.clock.ts(),
                 "updated": self.clock.ts()}
            i.comments.append(c)
            self._touch_jira(i, [])
            return c

    def _next_comment(self) -> int:
        self.state.next_comment_id += 1
        return self.state.next_comment_id

    def update_github_issue(self, repo: str, number: int, *, state=None, state_reason=None, labels=None,
                            milestone=..., title=None, assignees=None) -> GithubIssue:
        """milestone: a number, a title, or None to clear; labels replace the whole set."""
        with self.state.lock:
            i = self.github_issue(repo, number)
            now = self.clock.ts()
            if state is not None and state != i.state:
                i.state = state
                i.closed_at = now if state == "closed" else None
                i.state_reason = state_reason or ("completed" if state == "closed" else "reopened")
            elif state_reason is not None:
                i.state_reason = state_reason
            if labels is not None:
                for name in labels:
                    self.state.repos[repo]["labels"].setdefault(
                        name, {"id": 8_100_000 + len(self.state.repos[repo]["labels"]), "color": "ededed",
                               "default": False, "description": None})
                i.labels = list(labels)
            if milestone is not ...:
                if isinstance(milestone, str):
                    milestone = next(n for n, m in self.state.repos[repo]["milestones"].items()
                                     if m["title"] == milestone)
                i.milestone = milestone
            if title is not None:
                i.title = title
            if assignees is not None:
                i.assignees = [self._person(a) for a in assignees]
            i.updated_at = now
            i.history.append((now, "update", i.state))
            self.state.bump()
            return i

    def create_github_issue(self, repo: str, title: str, *, body: str = "", labels=(), milestone=None,
                            is_pr: bool = False) -> GithubIssue:
        with self.state.lock:
            st = self.state
            num = 1 + max(st.gh_issues[repo], default=0)
            now = self.clock.ts()
            i = GithubIssue(id=st.next_gh_id, repo=repo, number=num, title=title, body=body, user=0, state="open",
                            created_at=now, updated_at=now, is_pr=is_pr)
            st.next_gh_id += 1
            st.gh_issues[repo][num] = i
        return self.update_github_issue(repo, num, labels=list(labels), milestone=milestone)

    def delete_github_issue(self, repo: str, number: int) -> None:
        with self.state.lock:
            self.github_issue(repo, number).deleted = True
            self.state.bump()

    def transfer_github_issue(self, repo: str, number: int, new_repo: str) -> GithubIssue:
        """The new issue gets a new number and id; the old URL answers 301."""
        with self.state.lock:
            old = self.github_issue(repo, number)
            new = self.create_github_issue(new_repo, old.title, body=old.body, labels=old.labels)
            old.transferred_to = (new_repo, new.number)
            self.state.bump()
            return new

    def add_github_comment(self, repo: str, number: int, body: str, author: int = 0) -> dict:
        with self.state.lock:
            i = self.github_issue(repo, number)
            c = {"id": self._next_comment(), "author": author, "body": body, "created": self.clock.ts(),
                 "updated": self.clock.ts()}
            i.comments.append(c)
            i.updated_at = self.clock.ts()
            self.state.bump()
            return c

    # -- /_sandbox control endpoints ------------------------------------------------------------
    def control(self, method: str, path: str, request):
        body = {}
        if request.get_data():
            try:
                body = json.loads(request.get_data())
            except ValueError:
                return control_json({"error": "body must be JSON"}, 400)
        path = path.rstrip("/")
        if (method, path) == ("GET", "/requests"):
            return control_json([r._asdict() for r in self.log])
        if (method, path) == ("GET", "/counts"):
            return control_json(self.counts())
        if (method, path) == ("POST", "/reset-counts"):
            self.reset_counts()
            return control_json({"ok": True})
        if (method, path) == ("POST", "/faults"):
            try:
                return control_json(self.faults.add(**body).to_dict(), 201)
            except (TypeError, ValueError, KeyError) as e:
                return control_json({"error": str(e)}, 400)
        if (method, path) == ("GET", "/faults"):
            return control_json([r.to_dict() for r in self.faults.rules])
        if (method, path) == ("DELETE", "/faults"):
            self.faults.clear()
            return control_json({"ok": True})
        if (method, path) == ("POST", "/clock"):
            if "set" in body:
                self.clock.set(body["set"])
            else:
                self.clock.advance(**{k: body[k] for k in ("days", "hours", "minutes", "seconds") if k in body})
            return control_json({"now": self.clock.now().isoformat()})
        if (method, path) == ("GET", "/clock"):
            return control_json({"now": self.clock.now().isoformat()})
        if (method, path) == ("POST", "/simulate"):
            return control_json(self.simulate(float(body.get("days", 7))))
        if (method, path) == ("GET", "/org"):
            return control_json(self.org)
        return control_json({"error": f"no control endpoint {method} {path}"}, 404)
