"""Jira Cloud (/jira) and Jira Server (/jira-server) REST endpoints of the sandbox.

Cloud: enhanced search (/search/jql, nextPageToken, no total), legacy /search answers 410.
Server: /rest/api/2/search with startAt/maxResults/total; no /search/jql.
"""

from __future__ import annotations

import base64
import hashlib
import json
from zoneinfo import ZoneInfo

from . import jira_render as render
from .jql import Context, JQLError, evaluate, is_unbounded
from .wire import Req, Resp, Router, json_resp

router = Router()
API = r"/rest/api/(?P<v>[23])"
TOKEN_TTL = 7 * 86400
# The body real Cloud sites send since the legacy search was removed (tests compare it with refdata).
SEARCH_REMOVED = {"errorMessages": ["The requested API has been removed. Please migrate to the /rest/api/3/search/jql "
                                    "API. A full migration guideline is available at "
                                    "https://developer.atlassian.com/changelog/#CHANGE-2046"], "errors": {}}
NOT_FOUND = {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}


def err(status: int, message: str, endpoint: str = "") -> Resp:
    return json_resp({"errorMessages": [message], "errors": {}}, status, endpoint=endpoint)


def _ctx(sb, req: Req) -> Context:
    return Context(sb.state, ZoneInfo(sb.jira_timezone), sb.clock.ts(), 0)


def run_jql(sb, req: Req, jql: str) -> list:
    """Matching issue ids, cached per (jql, flavour, data version, clock) so paging stays cheap."""
    key = (jql, req.flavour, sb.jira_timezone, sb.state.version, sb.clock.ts())
    cache = sb.jql_cache
    hit = cache.get(key)
    if hit is None:
        hit = [i.id for i in evaluate(jql, _ctx(sb, req), sb.state.live_jira())]
        if len(cache) > 64:
            cache.clear()
        cache[key] = hit
    return hit


def _list_param(req: Req, body: dict, name: str, default: list[str]) -> list[str]:
    if name in body:
        val = body[name]
        return [x for v in (val if isinstance(val, list) else [val]) for x in str(v).split(",")]
    vals = req.args.getlist(name)
    return [x for v in vals for x in v.split(",")] if vals else default


def _render(sb, req: Req, v: str, ids: list[int], fields: list[str], expand: set[str]) -> list[dict]:
    st = sb.state
    concrete = fields if fields in (["id"], ["id", "key"]) else render.wanted_fields(fields, req.flavour)
    return [render.issue(st, st.jira_issues[i], req.base, v, req.flavour, concrete, expand) for i in ids]


def _token(jql: str, pos: int, now: float) -> str:
    raw = json.dumps({"h": hashlib.sha1(jql.encode()).hexdigest()[:12], "p": pos, "t": int(now)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_token(tok: str, jql: str, now: float) -> int | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4)))
        if data["h"] != hashlib.sha1(jql.encode()).hexdigest()[:12] or now - data["t"] > TOKEN_TTL:
            return None
        return int(data["p"])
    except (ValueError, KeyError, TypeError):
        return None


@router.add("GET", API + r"/search/jql", "jira.search_jql")
@router.add("POST", API + r"/search/jql", "jira.search_jql")
def search_jql(sb, req: Req, m: dict) -> Resp:
    if req.flavour != "cloud":
        return Resp(404, b"", endpoint="jira.search_jql")
    body = req.json() if req.method == "POST" else {}
    jql = str(body.get("jql", req.args.get("jql", "")))
    try:
        if is_unbounded(jql, _ctx(sb, req)):
            return err(400, "Unbounded JQL queries are not allowed here. Please add a search restriction to "
                            "your query.")
        ids = run_jql(sb, req, jql)
    except JQLError as e:
        return err(400, str(e))
    fields = [f for f in _list_param(req, body, "fields", ["id"]) if f]
    expand = set(_list_param(req, body, "expand", []))
    try:
        max_results = int(body.get("maxResults", req.args.get("maxResults", 50)))
    except ValueError:
        return err(400, "The maxResults parameter must be an integer.")
    cap = 5000 if set(fields) <= {"id", "key"} else 100
    max_results = max(0, min(max_results, cap))
    tok = body.get("nextPageToken", req.args.get("nextPageToken"))
    pos = 0
    if tok:
        pos = _read_token(str(tok), jql, sb.clock.ts())
        if pos is None:
            return err(400, "The provided next page token is invalid or expired.")
    page = ids[pos:pos + max_results]
    out = {"issues": _render(sb, req, m["v"], page, fields, expand)}
    end = pos + len(page)
    if end < len(ids) and max_results:
        out["nextPageToken"] = _token(jql, end, sb.clock.ts())
        out["isLast"] = False
    else:
        out["isLast"] = True  # the last page omits nextPageToken entirely
    return json_resp(out)


@router.add("GET", API + r"/search", "jira.search")
@router.add("POST", API + r"/search", "jira.search")
def search(sb, req: Req, m: dict) -> Resp:
    if req.flavour == "cloud":
        return json_resp(SEARCH_REMOVED, 410)
    body = req.json() if req.method == "POST" else {}
    jql = str(body.get("jql", req.args.get("jql", "")))
    try:
        ids = run_jql(sb, req, jql)
        start = int(body.get("startAt", req.args.get("startAt", 0)))
        max_results = int(body.get("maxResults", req.args.get("maxResults", 50)))
    except JQLError as e:
        return err(400, str(e))
    except ValueError:
        return err(400, "startAt and maxResults must be integers.")
    max_results = max(0, min(max_results, sb.jira_server_max_results))
    fields = [f for f in _list_param(req, body, "fields", ["*navigable"]) if f]
    expand = set(_list_param(req, body, "expand", []))
    page = ids[start:start + max_results]
    return json_resp({"expand": "schema,names", "startAt": start, "maxResults": max_results, "total": len(ids),
                      "issues": _render(sb, req, m["v"], page, fields, expand)})


@router.add("POST", API + r"/search/approximate-count", "jira.approximate_count")
def approximate_count(sb, req: Req, m: dict) -> Resp:
    if req.flavour != "cloud":
        return Resp(404, b"")
    try:
        return json_resp({"count": len(run_jql(sb, req, str(req.json().get("jql", ""))))})
    except JQLError as e:
        return err(400, str(e))


@router.add("GET", API + r"/serverInfo", "jira.server_info")
def server_info(sb, req: Req, m: dict) -> Resp:
    cloud = req.flavour == "cloud"
    now = sb.clock.now()
    return json_resp({
        "baseUrl": req.base, "displayUrlServicedeskHelpCenter": req.base,
        "version": "1001.0.0-SNAPSHOT" if cloud else "9.12.2",
        "versionNumbers": [1001, 0, 0] if cloud else [9, 12, 2],
        "deploymentType": "Cloud" if cloud else "Server",
        "buildNumber": 100274 if cloud else 9120002,
        "buildDate": "2026-11-01T00:00:00.000+0000", "serverTime": render.jira_time(now.timestamp()),
        "scmInfo": "0f5e7d6c", "serverTitle": "Acme Jira",
        "serverTimeZone": "Etc/UTC" if cloud else sb.jira_timezone,
    })


@router.add("GET", API + r"/myself", "jira.myself")
def myself(sb, req: Req, m: dict) -> Resp:
    me = render.user(sb.state, 0, req.base, req.flavour)
    me["timeZone"] = sb.jira_timezone
    me["locale"] = "en_US"
    me["groups"] = {"size": 1, "items": []}
    me["applicationRoles"] = {"size": 1, "items": []}
    me["expand"] = "groups,applicationRoles"
    return json_resp(me)


@router.add("GET", API + r"/field", "jira.field")
def fields(sb, req: Req, m: dict) -> Resp:
    def f(fid, name, custom, schema, navigable=True):
        out = {"id": fid, "key": fid, "name": name, "custom": custom, "orderable": True, "navigable": navigable,
               "searchable": True, "clauseNames": [name.lower()] + ([f"cf[{fid[12:]}]"] if custom else []),
               "schema": schema}
        if custom:
            out["schema"]["customId"] = int(fid[12:])
        return out
    out = [
        f("summary", "Summary", False, {"type": "string", "system": "summary"}),
        f("status", "Status", False, {"type": "status", "system": "status"}),
        f("labels", "Labels", False, {"type": "array", "items": "string", "system": "labels"}),
        f("fixVersions", "Fix versions", False, {"type": "array", "items": "version", "system": "fixVersions"}),
        f("assignee", "Assignee", False, {"type": "user", "system": "assignee"}),
        f("duedate", "Due date", False, {"type": "date", "system": "duedate"}),
        f("updated", "Updated", False, {"type": "datetime", "system": "updated"}),
        f("issuetype", "Issue Type", False, {"type": "issuetype", "system": "issuetype"}),
        f(render.SPRINT_FIELD, "Sprint", True, {"type": "array", "items": "json",
                                                "custom": "com.pyxis.greenhopper.jira:gh-sprint"}),
    ]
    if req.flavour == "cloud":
        out.append(f("parent", "Parent", False, {"type": "issuelink", "system": "parent"}))
        out.append(f(render.POINTS_FIELD["cloud"], "Story point estimate", True, {
            "type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"}))
    else:
        out.append(f(render.POINTS_FIELD["server"], "Story Points", True, {
            "type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float"}))
        out.append(f(render.EPIC_LINK_FIELD, "Epic Link", True, {
            "type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link"}))
    return json_resp(out)


def _today(sb) -> str:
    return sb.clock.now().strftime("%Y-%m-%d")


@router.add("GET", API + r"/project/(?P<key>[^/]+)/versions", "jira.project_versions")
def project_versions(sb, req: Req, m: dict) -> Resp:
    p = sb.state.projects.get(m["key"].upper()) or next(
        (x for x in sb.state.projects.values() if x["id"] == m["key"]), None)
    if not p:
        return err(404, f"No project could be found with key '{m['key']}'.")
    return json_resp([render.version(sb.state, v, req.base, _today(sb)) for v in p["versions"]])


@router.add("GET", API + r"/project/(?P<key>[^/]+)/version", "jira.project_version_paged")
def project_version_paged(sb, req: Req, m: dict) -> Resp:
    p = sb.state.projects.get(m["key"].upper())
    if not p:
        return err(404, f"No project could be found with key '{m['key']}'.")
    vals = [render.version(sb.state, v, req.base, _today(sb)) for v in p["versions"]]
    return _start_at_page(vals, req, f"{req.base}/rest/api/{m['v']}/project/{p['key']}/version", 50, None)


@router.add("GET", API + r"/project/(?P<key>[^/]+)", "jira.project")
def project_get(sb, req: Req, m: dict) -> Resp:
    p = sb.state.projects.get(m["key"].upper())
    if not p:
        return err(404, f"No project could be found with key '{m['key']}'.")
    out = render.project(sb.state, p["key"], req.base)
    out["versions"] = [render.version(sb.state, v, req.base, _today(sb)) for v in p["versions"]]
    return json_resp(out)


def _find(sb, key: str):
    i = sb.state.jira_by_key(key)
    return None if i is None or i.deleted else i


@router.add("GET", API + r"/issue/(?P<key>[^/]+)", "jira.issue_get")
def issue_get(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    fields = [f for v in (req.args.getlist("fields") or ["*all"]) for f in v.split(",")]
    expand = {e for v in req.args.getlist("expand") for e in v.split(",")}
    # An old key answers with the moved issue (its new key), as Jira's historical-key redirect does.
    return json_resp(_render(sb, req, m["v"], [i.id], fields, expand)[0])


@router.add("POST", API + r"/issue/bulkfetch", "jira.issue_bulkfetch")
def bulkfetch(sb, req: Req, m: dict) -> Resp:
    body = req.json()
    refs = [str(x) for x in body.get("issueIdsOrKeys", [])]
    if not refs or len(refs) > 100:
        return err(400, "issueIdsOrKeys must contain between 1 and 100 items.")
    # Issues that are missing or hidden are left out silently; issueErrors is for retriable failures only.
    found = [i.id for i in (_find(sb, ref) for ref in refs) if i is not None]
    fields = [f for f in _list_param(req, body, "fields", ["*navigable"]) if f]
    expand = set(_list_param(req, body, "expand", []))
    return json_resp({"issues": _render(sb, req, m["v"], found, fields, expand), "issueErrors": []})


@router.add("GET", API + r"/issue/(?P<key>[^/]+)/changelog", "jira.issue_changelog")
def issue_changelog(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    hist = render.changelog(sb.state, i, req.base, req.flavour)["histories"]
    return _start_at_page(hist, req, f"{req.base}/rest/api/{m['v']}/issue/{i.key}/changelog", 100, 100)


def _start_at_page(values: list, req: Req, url: str, default: int, cap: int | None) -> Resp:
    """Jira's paged-list envelope (self, startAt, maxResults, total, isLast, nextPage, values)."""
    start, size = int(req.args.get("startAt", 0)), int(req.args.get("maxResults", default))
    if cap is not None:
        size = min(size, cap)
    page = values[start:start + size]
    out = {"self": f"{url}?maxResults={size}&startAt={start}", "maxResults": size, "startAt": start,
           "total": len(values), "isLast": start + len(page) >= len(values), "values": page}
    if not out["isLast"]:
        out["nextPage"] = f"{url}?maxResults={size}&startAt={start + size}"
    return json_resp(out)


@router.add("PUT", API + r"/issue/(?P<key>[^/]+)", "jira.issue_put")
def issue_put(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    from .jira_bulk import note_write, single_put_notify

    would_email, refusal = single_put_notify(sb, req)
    if refusal is not None:
        return refusal
    body = req.json()
    labels = list(i.labels)
    for op in body.get("update", {}).get("labels", []):
        if "add" in op and op["add"] not in labels:
            labels.append(op["add"])
        if "remove" in op and op["remove"] in labels:
            labels.remove(op["remove"])
        if "set" in op:
            labels = list(op["set"])
    flds = body.get("fields", {})
    if "labels" in flds:
        labels = list(flds["labels"])
    bad = [x for x in labels if not isinstance(x, str) or " " in x]
    if bad:
        return json_resp({"errorMessages": [], "errors": {"labels": "The label can't contain spaces."}}, 400)
    changes = {"labels": labels} if labels != i.labels else {}
    if "summary" in flds:
        changes["summary"] = flds["summary"]
    if changes:
        sb.update_jira_issue(i.key, **changes)
        note_write(sb, req.flavour, notify=would_email)
    return Resp(204)


@router.add("GET", API + r"/issue/(?P<key>[^/]+)/comment", "jira.comments")
def comments(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    cs = [render.comment(sb.state, i, c, req.base, m["v"], req.flavour) for c in i.comments]
    return json_resp({"startAt": 0, "maxResults": 5000, "total": len(cs), "comments": cs})


@router.add("POST", API + r"/issue/(?P<key>[^/]+)/comment", "jira.comment_add")
def comment_add(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    c = sb.add_jira_comment(i.key, _plain(req.json().get("body", "")))
    return json_resp(render.comment(sb.state, i, c, req.base, m["v"], req.flavour), 201)


@router.add("PUT", API + r"/issue/(?P<key>[^/]+)/comment/(?P<cid>\d+)", "jira.comment_edit")
def comment_edit(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    c = next((c for c in i.comments if c["id"] == int(m["cid"])), None) if i else None
    if c is None:
        return err(404, "Can not find a comment for the id: " + m["cid"] + ".")
    with sb.state.lock:
        c["body"], c["updated"] = _plain(req.json().get("body", "")), sb.clock.ts()
        sb.state.bump()
    return json_resp(render.comment(sb.state, i, c, req.base, m["v"], req.flavour))


def _plain(body) -> str:
    if isinstance(body, dict):  # ADF: keep the text nodes
        out = []

        def walk(n):
            if n.get("type") == "text":
                out.append(n.get("text", ""))
            for ch in n.get("content", []):
                walk(ch)
        walk(body)
        return "".join(out)
    return str(body)


@router.add("GET", API + r"/issue/(?P<key>[^/]+)/remotelink", "jira.remotelinks")
def remotelinks(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    return json_resp([{"id": i.id * 10 + n, "self": f"{req.base}/rest/api/{m['v']}/issue/{i.key}/remotelink/{n}",
                       "globalId": url, "application": {"type": "com.github", "name": "GitHub"},
                       "relationship": "mentioned in",
                       "object": {"url": url, "title": url.rsplit("/", 3)[-3] + "#" + url.rsplit("/", 1)[-1],
                                  "icon": {"url16x16": "https://github.com/favicon.ico", "title": "GitHub"}}}
                      for n, url in enumerate(i.remote_links)])
