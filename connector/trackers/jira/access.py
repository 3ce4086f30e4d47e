"""Who plansync is on a Jira and what it may do: the identity `doctor` shows (with the site's cloud id,
which a service account's scoped token needs), and the permissions it checks before the first write.
"""

from __future__ import annotations

import logging
import re

import requests

from connector.errors import AuthError, RateLimitExhausted, TrackerError
from connector.http import prepare_session
from connector.permissions import Permission
from connector.values import Identity

log = logging.getLogger(__name__)

TENANT_INFO = "/_edge/tenant_info"  # public on every Jira Cloud site: {"cloudId": "..."}


def discover_cloud_id(adapter) -> str | None:
    """The site's cloud id from `{url}/_edge/tenant_info` (no credentials sent), None when it has none."""
    tracker = adapter.tracker
    session = prepare_session(requests.Session(), timeout=tracker.timeout, verify=tracker.verify_tls,
                              stats=adapter.stats)
    try:
        resp = session.get(tracker.url + TENANT_INFO)
        data = resp.json() if resp.ok else None
    except (requests.RequestException, ValueError):
        return None
    finally:
        session.close()
    cloud_id = data.get("cloudId") if isinstance(data, dict) else None
    return str(cloud_id) if cloud_id else None


def checked_identity(adapter) -> Identity:
    """`doctor`'s identity line; on Cloud it names the cloud id, and a 401 from the site says which
    cloud_id the gateway needs."""
    tracker = adapter.tracker
    try:
        me = adapter._myself()
    except AuthError as exc:
        if tracker.via_gateway or tracker.deployment == "server":
            raise
        cloud_id = discover_cloud_id(adapter)
        if cloud_id is None:
            raise
        said = str(exc).removeprefix(f"tracker {adapter.name!r}: ")
        raise AuthError(adapter.name, f"{said}; this site's cloud id is {cloud_id}: "
                        f"cloud_id = \"{cloud_id}\"") from None
    user = me.get("emailAddress") or me.get("accountId") or me.get("name") or me.get("displayName") or "?"
    detail = f"{tracker.url} ({adapter.api})"
    if tracker.via_gateway:
        detail += f" through the API gateway {tracker.api_base}"
    elif adapter.deployment == "cloud":
        cloud_id = discover_cloud_id(adapter)
        if cloud_id:
            detail += f"; cloud id {cloud_id} (cloud_id = \"{cloud_id}\" for a service account's scoped token)"
    return Identity(tracker=adapter.name, user=str(user), deployment=adapter.deployment,
                    timezone=me.get("timeZone"), detail=detail)


# --- permissions (doctor) --------------------------------------------------------------------------
PROJECT_IN_JQL = re.compile(r"\bproject\s*(?:=|\bin\b)\s*\(?\s*([^)]+?)\s*\)?(?:\s+(?:AND|OR|ORDER)\b|$)", re.I)
KEYS = ("BROWSE_PROJECTS", "EDIT_ISSUES", "ADMINISTER", "ADMINISTER_PROJECTS", "BULK_CHANGE", "ADD_COMMENTS",
        "EDIT_OWN_COMMENTS")


def projects_of(scopes, publish_issue: str | None = None) -> list[str]:
    """Project keys the scopes name (`project = X` / `project in (X, Y)` in JQL, keys of `items`)."""
    found: dict[str, None] = {}
    for scope in scopes:
        for match in PROJECT_IN_JQL.finditer(scope.jql or ""):
            for key in match.group(1).split(","):
                key = key.strip().strip("\"'")
                if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key):
                    found[key.upper()] = None
        for item in scope.items or ():
            found[item.rpartition("-")[0].upper()] = None
    if publish_issue:
        found[publish_issue.rpartition("-")[0].upper()] = None
    return [key for key in found if key]


def permission_checks(adapter, scopes, publish_issue: str | None = None) -> list[Permission]:
    """One GET /mypermissions per project the plan names (every key at once); read-only."""
    tracker = adapter.tracker
    projects = projects_of(scopes, publish_issue) or [None]
    have: dict[str | None, dict[str, bool]] = {}
    for project in projects:
        params = {"permissions": ",".join(KEYS)} | ({"projectKey": project} if project else {})
        try:
            answer = adapter.http.get_json(f"{adapter.api}/mypermissions", what="reading /mypermissions",
                                           endpoint="GET /mypermissions", params=params)
        except (AuthError, RateLimitExhausted):
            raise
        except TrackerError as exc:
            return [Permission("permissions", "unknown", f"GET /mypermissions failed: {exc}",
                               "run doctor again; the account needs Browse Projects to read its permissions")]
        perms = (answer or {}).get("permissions") or {} if isinstance(answer, dict) else {}
        have[project] = {key: bool((perms.get(key) or {}).get("havePermission")) for key in KEYS}

    def per_project(need: str, keys: tuple[str, ...], fix: str, *, required: bool = True,
                    only: list | None = None) -> Permission:
        wanted = only if only is not None else projects
        lacking = [p for p in wanted if not any(have[p][k] for k in keys)]
        where = ", ".join(p or "any project" for p in wanted)
        if not lacking:
            return Permission(need, "granted", where, required=required)
        names = ", ".join(p or "its projects" for p in lacking)
        return Permission(need, "missing", f"not on {names}", fix.format(projects=names), required=required)

    out = [per_project("read issues", ("BROWSE_PROJECTS",), "grant the account Browse Projects in the permission "
                       "scheme of {projects} (Project settings > Permissions)"),
           per_project("write labels", ("EDIT_ISSUES",), "grant the account Edit Issues in the permission scheme "
                       "of {projects}")]
    cloud = adapter.deployment == "cloud"
    if cloud and tracker.bulk:
        bulk = all(have[p]["BULK_CHANGE"] for p in projects)
        out.append(Permission("bulk edit", "granted" if bulk else "missing", "global Make bulk changes",
                              "grant the account the global permission Make bulk changes (Settings > System > "
                              "Global permissions), or set bulk = false; without it plansync edits one issue at a "
                              "time", required=False))
    if tracker.notify:
        out.append(Permission("suppress notifications", "granted", "not asked: notify = true emails watchers",
                              required=False))
    else:
        out.append(per_project("suppress notifications", ("ADMINISTER", "ADMINISTER_PROJECTS"),
                               "grant the account Administer Projects on {projects} (Jira Cloud otherwise ignores "
                               "notifyUsers=false and watchers get an email per label change), or set notify = true",
                               required=False))
    if publish_issue:
        project = publish_issue.rpartition("-")[0].upper()
        out.append(per_project(f"comment on {publish_issue}", ("ADD_COMMENTS",), "grant the account Add Comments "
                               "and Edit Own Comments on {projects} (the weekly report is published there)",
                               only=[project]))
        if have[project]["ADD_COMMENTS"] and not have[project]["EDIT_OWN_COMMENTS"]:
            out[-1] = Permission(out[-1].need, "missing", f"Add Comments but not Edit Own Comments on {project}",
                                 f"grant the account Edit Own Comments on {project}: the report edits its comment")
    return out
