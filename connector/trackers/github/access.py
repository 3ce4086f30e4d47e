"""Who plansync is on a GitHub and what it may do: the identity `doctor` shows (a token's user, or a GitHub
App and its installations), and the permissions it checks before the first write.
"""

from __future__ import annotations

from urllib.parse import urlparse

from connector.permissions import Permission
from connector.values import Identity


def deployment_of(url: str) -> str:
    return "github.com" if (urlparse(url).hostname or "") == "api.github.com" else "enterprise"


def app_identity(adapter, repos: list[str] = ()) -> Identity:
    """A GitHub App: GET /app with its JWT, then one installation token per owner of the plan's repos."""
    tokens = adapter.http.app
    about = tokens.app()
    installations = []
    for repo in repos:
        owner, _, name = repo.partition("/")
        installations.append(f"{owner}: installation {tokens.installation(owner, name)}")
    detail = f"API version {adapter.tracker.api_version}"
    if installations:
        detail += "; " + ", ".join(dict.fromkeys(installations))
    return Identity(tracker=adapter.name, user=f"{about['slug']}[bot] (GitHub App {tokens.app_id})",
                    deployment=deployment_of(adapter.tracker.url), timezone=None, detail=detail)


# --- permissions (doctor) --------------------------------------------------------------------------
APP_FIX = ("in the GitHub App's settings (Permissions & events) give Repository permissions > {what}, then "
           "accept the new permissions on its installation on {owners}")
TOKEN_FIX = "give the fine-grained token Repository permissions > {what} on {repos} (or use a GitHub App)"


def _repos(adapter, scopes, publish_issue: str | None) -> list[str]:
    from connector.trackers.github.adapter import repos_for_scopes

    repos = repos_for_scopes(scopes, adapter.name)
    if publish_issue and publish_issue.partition("#")[0] not in repos:
        repos.append(publish_issue.partition("#")[0])
    return repos


def permission_checks(adapter, scopes, publish_issue: str | None = None) -> list[Permission]:
    """Read-only: an App's installation permissions (from its token), a classic token's X-OAuth-Scopes, a
    fine-grained token's answers (one `GET .../issues?per_page=1` per repo; a 403 names what it lacks in
    X-Accepted-GitHub-Permissions)."""
    repos = _repos(adapter, scopes, publish_issue)
    # Projects v2 scopes (`project = "owner/7"`) read the project; their owners need the App installed
    projects = sorted({str(s.project).partition("/")[0] for s in scopes if getattr(s, "project", None)})
    if adapter.http.app is not None:
        return _app_checks(adapter, repos, publish_issue, projects)
    scopes_header = getattr(adapter, "oauth_scopes", None)
    if scopes_header is not None:
        return _classic_checks(scopes_header, repos, publish_issue, projects)
    return _fine_grained_checks(adapter, repos, publish_issue, projects)


def _app_checks(adapter, repos, publish_issue, projects) -> list[Permission]:
    tokens = adapter.http.app
    granted: dict[str, dict] = {}
    for repo in [*repos, *projects]:
        owner, _, name = repo.partition("/")
        if owner.lower() not in granted:
            granted[owner.lower()] = tokens.token_for(owner, name or None).permissions
    owners = ", ".join(granted) or "its owners"

    def check(need: str, key: str, level: str, what: str, only=None, required=True) -> Permission:
        lacking = [o for o in (only or granted) if not _at_least(granted.get(o, {}).get(key), level)]
        if not granted:
            return Permission(need, "unknown", "no repository in the plan", required=required)
        if not lacking:
            return Permission(need, "granted", f"installation permission {key}: {level}", required=required)
        return Permission(need, "missing", f"{key} is not {level} on {', '.join(lacking)}",
                          APP_FIX.format(what=what, owners=", ".join(lacking) or owners), required=required)

    out = [check("read issues", "issues", "read", "Issues: Read-only (or Read and write)"),
           check("write labels", "issues", "write", "Issues: Read and write")]
    if publish_issue:
        out.append(check(f"comment on {publish_issue}", "issues", "write", "Issues: Read and write",
                         only=[publish_issue.partition("/")[0].lower()]))
    if projects:
        out.append(check("read projects", "organization_projects", "read",
                         "Organization permissions > Projects: Read-only", only=[p.lower() for p in projects]))
    return out


def _at_least(have: str | None, level: str) -> bool:
    return have == "write" or (level == "read" and have in ("read", "write"))


def _classic_checks(header: str, repos, publish_issue, projects) -> list[Permission]:
    granted = {s.strip() for s in header.split(",") if s.strip()}
    fix = "create a token with the repo scope (public_repo for public repositories only), or use a GitHub App"
    issues = "repo" in granted or "public_repo" in granted
    detail = f"token scopes: {', '.join(sorted(granted)) or 'none'}"
    if "public_repo" in granted and "repo" not in granted:
        detail += "; public repositories only"
    out = [Permission("read issues", "granted" if issues else "missing", detail, fix),
           Permission("write labels", "granted" if issues else "missing", detail, fix)]
    if publish_issue:
        out.append(Permission(f"comment on {publish_issue}", "granted" if issues else "missing", detail, fix))
    if projects:
        out.append(Permission("read projects", "granted" if {"project", "read:project"} & granted else "missing",
                              detail, "add the read:project scope to the token"))
    return out


def _fine_grained_checks(adapter, repos, publish_issue, projects) -> list[Permission]:
    unreadable, needs = [], set()
    for repo in repos:
        reply = adapter.http.request("GET", f"/repos/{repo}/issues", what=f"GET /repos/{repo}/issues",
                                     params={"per_page": 1, "state": "all"}, accept=frozenset({403, 404}))
        if reply.status in (403, 404):
            unreadable.append(repo)
            needs.add(reply.headers.get("x-accepted-github-permissions") or "issues=read")
    where = ", ".join(repos) or "no repository in the plan"
    read = (Permission("read issues", "missing", f"refused on {', '.join(unreadable)} (needs {', '.join(sorted(needs))})",
                       TOKEN_FIX.format(what="Issues: Read-only", repos=", ".join(unreadable)))
            if unreadable else Permission("read issues", "granted" if repos else "unknown", where))
    fix = TOKEN_FIX.format(what="Issues: Read and write", repos=where)
    # a fine-grained token's write permission cannot be read without writing (a repository the account
    # cannot push to at all is a FAIL line of the repository checks above)
    write = Permission("write labels", "unknown", "a fine-grained token does not say without a write", fix)
    out = [read, write]
    if publish_issue:
        out.append(Permission(f"comment on {publish_issue}", "unknown", "a fine-grained token does not say", fix))
    if projects:
        out.append(Permission("read projects", "unknown", "a fine-grained token does not say",
                              "give the token Organization permissions > Projects: Read-only"))
    return out


def check_scopes(adapter, scopes) -> list[tuple[str, str | None]]:
    """Each repository the plan names: (repo, None) when the token sees it, else (repo, the problem), then
    each Projects v2 project. One bad repository does not fail the others."""
    from connector.trackers.github.projects import project_reader
    from connector.trackers.github.scopes import repos_for_scopes

    out: list[tuple[str, str | None]] = []
    for repo in repos_for_scopes(scopes, adapter.name):
        reply = adapter.http.request("GET", f"/repos/{repo}", what=f"GET /repos/{repo}", accept=frozenset({403, 404}))
        if reply.status == 404:
            out.append((repo, "not found, or not visible to this token (404)"))
        elif reply.status == 403:
            out.append((repo, "this token may not read it (403)"))
        elif not ((reply.data or {}).get("permissions") or {}).get("push", True):
            out.append((repo, "readable, but this token cannot write labels (no push permission)"))
        else:
            out.append((repo, None))
    return out + project_reader(adapter).check(scopes)
