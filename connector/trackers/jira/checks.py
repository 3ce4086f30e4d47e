"""`doctor`'s per-scope check for Jira: each scope's JQL is asked once for one issue id, so a JQL Jira
rejects, a project that is gone or a key list naming a deleted issue is named on its own line, and
the other scopes are still checked. One request per scope; nothing is stored.
"""

from __future__ import annotations

from connector.errors import FatalAPIError
from connector.trackers import isolation
from connector.trackers.jira.search import full_jql


def check_scopes(adapter, scopes) -> list[tuple[str, str | None]]:
    """(scope, None) when Jira runs the scope's JQL, else (scope, the problem)."""
    cloud = adapter.deployment == "cloud"
    path = f"{adapter.api}/search/jql" if cloud else f"{adapter.api}/search"
    endpoint = "GET /search/jql" if cloud else "GET /search"
    out: list[tuple[str, str | None]] = []
    for scope in scopes:
        if scope.tracker != adapter.name:
            continue
        what = f"search for scope {scope.describe()!r}"
        try:
            answer = adapter.http.get_json(path, what=what, endpoint=endpoint,
                                           params={"jql": full_jql(scope), "maxResults": 1, "fields": "id"})
        except FatalAPIError as exc:
            if not isolation.scope_local(exc, isolation.JQL_REFUSED):
                raise
            out.append((scope.describe(), isolation.failures(exc, [scope])[0].error))
            continue
        if not isinstance(answer, dict) or not isinstance(answer.get("issues"), list):
            out.append((scope.describe(), f"{what}: the answer has no `issues` list"))
        else:
            out.append((scope.describe(), None))
    return out
