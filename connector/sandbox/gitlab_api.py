"""GitLab REST API v4 endpoints of the sandbox (/gitlab/api/v4, like an instance root at /gitlab).

Projects and groups are addressed by id or URL-encoded full path (`acme%2Fplatform%2Fcheckout`), as
GitLab wants; keyset pagination on project issues, offset pages (X-Total, X-Next-Page, Link) elsewhere;
PRIVATE-TOKEN or Bearer auth; RateLimit-* headers and a per-token limit answered with 429 + Retry-After.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from urllib.parse import unquote, urlencode

from .gitlab_render import issue_obj, milestone_obj, note_obj, project_obj, user_obj
from .wire import Req, Resp, Router, json_resp

router = Router()
TOKEN = "sandbox-gitlab-token"
PREFIX = ("/gitlab", "gitlab")
API = "/api/v4"
PROJECT = API + r"/projects/(?P<pid>[^/]+)"
GROUP = API + r"/groups/(?P<gid>[^/]+)"
KEYSET_ORDERS = ("created_at", "updated_at")  # of project issues' keyset orderings, the ones docs and source share
ORDERS = ("created_at", "updated_at", "title", "due_date", "relative_position", "priority", "weight")


def error(status: int, message: str) -> Resp:
    return json_resp({"message": message}, status)


def not_found(what: str = "Not found") -> Resp:
    return error(404, f"404 {what}")


def raw_path(environ, fallback: str) -> str:
    """The request path as sent (werkzeug decodes %2F in PATH_INFO, GitLab's ids need it encoded)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    return raw.split("?", 1)[0] if raw.startswith("/") else fallback


def auth_ok(headers) -> bool:
    scheme, _, cred = headers.get("Authorization", "").partition(" ")
    return headers.get("PRIVATE-TOKEN", "") == TOKEN or (scheme.lower() == "bearer" and cred == TOKEN)


def unauthorized() -> Resp:
    return error(401, "401 Unauthorized")


def rate_headers(sb, request, resp: Resp) -> None:
    """RateLimit-* on every answer; a spent budget answers 429 (the handler's answer is dropped)."""
    st = sb.gitlab
    token = request.headers.get("PRIVATE-TOKEN") or request.headers.get("Authorization", "").partition(" ")[2]
    now = time.monotonic()
    budgets = st.__dict__.setdefault("_budgets", {})
    b = budgets.get(token)
    if b is None or now >= b["reset_mono"]:
        b = budgets[token] = {"used": 0, "reset_mono": now + 60, "reset": int(sb.clock.ts()) + 60}
    if b["used"] >= st.rate_limit and resp.status != 401:
        resp.status, resp.body = 429, b"Retry later\n"
        resp.headers = {"Content-Type": "text/plain", "Retry-After": str(max(1, int(b["reset_mono"] - now)))}
    elif resp.status != 401:
        b["used"] += 1
    resp.headers.update({"RateLimit-Limit": str(st.rate_limit), "RateLimit-Observed": str(b["used"]),
                         "RateLimit-Remaining": str(max(0, st.rate_limit - b["used"])),
                         "RateLimit-Reset": str(b["reset"]),
                         "RateLimit-ResetTime": datetime.fromtimestamp(b["reset"], UTC).strftime(
                             "%a, %d %b %Y %H:%M:%S GMT")})


def _project(sb, m: dict):
    p = sb.gitlab.project_by_ref(unquote(m["pid"]))
    return (p, None) if p else (None, not_found("Project Not Found"))


def _group(sb, m: dict):
    g = sb.gitlab.group_by_ref(unquote(m["gid"]))
    return (g, None) if g else (None, not_found("Group Not Found"))


def _link(req: Req, args: list, rel: str) -> str:
    return f'<{req.base}{req.path}?{urlencode(args)}>; rel="{rel}"'


def _per_page(req: Req) -> int:
    try:
        return max(1, min(int(req.args.get("per_page", 20)), 100))
    except ValueError:
        return 20


def _offset_page(req: Req, items: list) -> tuple[list, dict]:
    per_page = _per_page(req)
    try:
        page = max(1, int(req.args.get("page", 1)))
    except ValueError:
        page = 1
    total_pages = max(1, -(-len(items) // per_page))
    args = [(k, v) for k, v in req.args.items(multi=True) if k != "page"]
    links = [_link(req, args + [("page", page + 1)], "next")] if page < total_pages else []
    links += [_link(req, args + [("page", page - 1)], "prev")] if page > 1 else []
    links += [_link(req, args + [("page", 1)], "first"), _link(req, args + [("page", total_pages)], "last")]
    headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
               "X-Total-Pages": str(total_pages), "X-Next-Page": str(page + 1) if page < total_pages else "",
               "X-Prev-Page": str(page - 1) if page > 1 else "", "Link": ", ".join(links)}
    return items[(page - 1) * per_page: page * per_page], headers


def _keyset_page(req: Req, issues: list, order_by: str, descending: bool) -> tuple[list, dict] | Resp:
    """GitLab's keyset: an opaque `cursor` (base64 JSON of the last row's order value and id) in rel=next."""
    per_page = _per_page(req)
    attr = order_by.removesuffix("_at") + "_at"
    start = 0
    if req.args.get("cursor"):
        try:
            last = json.loads(base64.urlsafe_b64decode(req.args["cursor"].encode()))
            mark = (float(last[order_by]), int(last["id"]))
        except (ValueError, KeyError, TypeError):
            return error(400, "400 Bad request - cursor is invalid")
        keys = [(getattr(i, attr), i.id) for i in issues]
        start = next((n for n, k in enumerate(keys) if (k < mark if descending else k > mark)), len(issues))
    chunk = issues[start:start + per_page]
    headers = {"X-Per-Page": str(per_page)}
    if start + per_page < len(issues):
        tail = chunk[-1]
        cursor = base64.urlsafe_b64encode(json.dumps({order_by: getattr(tail, attr), "id": tail.id,
                                                      "_kd": "n"}).encode()).decode()
        args = [(k, v) for k, v in req.args.items(multi=True) if k != "cursor"] + [("cursor", cursor)]
        headers["Link"] = _link(req, args, "next")
    return chunk, headers


def _since(value: str | None) -> float | None | bool:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _filtered(sb, req: Req, issues, projects_label: str) -> list | Resp:
    a = req.args
    state = a.get("state", "all")
    order_by, sort = a.get("order_by", "created_at"), a.get("sort", "desc")
    after, before = _since(a.get("updated_after")), _since(a.get("updated_before"))
    if state not in ("opened", "closed", "all") or order_by not in ORDERS or sort not in ("asc", "desc") \
            or after is False or before is False:
        return error(400, "400 Bad request - invalid parameters")
    labels = [x.strip().lower() for x in a.get("labels", "").split(",") if x.strip()]
    milestone, iids = a.get("milestone"), {int(x) for x in a.getlist("iids[]") if x.isdigit()}
    picked = []
    for i in issues:
        if i.deleted or (state != "all" and i.state != state):
            continue
        if after is not None and i.updated_at < after or before is not None and i.updated_at > before:
            continue
        if labels and not set(labels) <= {x.lower() for x in i.labels}:
            continue
        if milestone and (not i.milestone or sb.gitlab.milestones[i.milestone]["title"] != milestone):
            continue
        if iids and i.iid not in iids:
            continue
        picked.append(i)
    attr = {"updated_at": "updated_at", "created_at": "created_at"}.get(order_by, "created_at")
    picked.sort(key=lambda i: (getattr(i, attr), i.id), reverse=sort == "desc")
    return picked


@router.add("GET", PROJECT + r"/issues", "gitlab.project_issues")
def project_issues(sb, req: Req, m: dict) -> Resp:
    p, e = _project(sb, m)
    if e:
        return e
    picked = _filtered(sb, req, sb.gitlab.visible(p["path"]), p["path"])
    if isinstance(picked, Resp):
        return picked
    order_by = req.args.get("order_by", "created_at")
    if req.args.get("pagination") == "keyset" and order_by in KEYSET_ORDERS:
        page = _keyset_page(req, picked, order_by, req.args.get("sort", "desc") == "desc")
    else:  # GitLab falls back to offset pages for orderings keyset does not support
        page = _offset_page(req, picked)
    if isinstance(page, Resp):
        return page
    chunk, headers = page
    return json_resp([issue_obj(sb.gitlab, i, req.base) for i in chunk], headers=headers)


@router.add("GET", GROUP + r"/issues", "gitlab.group_issues")
def group_issues(sb, req: Req, m: dict) -> Resp:
    g, e = _group(sb, m)
    if e:
        return e
    if req.args.get("pagination") == "keyset":
        return json_resp({"error": "Keyset pagination is not yet available for this type of request"}, 405)
    inside = [i for i in sb.gitlab.issues.values() if i.project.startswith(g["path"] + "/")]
    picked = _filtered(sb, req, inside, g["path"])
    if isinstance(picked, Resp):
        return picked
    chunk, headers = _offset_page(req, picked)
    return json_resp([issue_obj(sb.gitlab, i, req.base) for i in chunk], headers=headers)


def _issue(sb, m: dict):
    p, e = _project(sb, m)
    if e:
        return None, e
    key = (p["path"], int(m["iid"]))
    i = sb.gitlab.issues.get(sb.gitlab.by_ref.get(key, -1))
    if i is None or i.deleted:
        return None, not_found()
    return i, None


@router.add("GET", PROJECT + r"/issues/(?P<iid>\d+)", "gitlab.issue_get")
def issue_get(sb, req: Req, m: dict) -> Resp:
    i, e = _issue(sb, m)
    return e or json_resp(issue_obj(sb.gitlab, i, req.base))


def _names(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return [str(x).strip() for x in value if str(x).strip()]
    return [x.strip() for x in str(value).split(",") if x.strip()]


@router.add("PUT", PROJECT + r"/issues/(?P<iid>\d+)", "gitlab.issue_edit")
def issue_edit(sb, req: Req, m: dict) -> Resp:
    i, e = _issue(sb, m)
    if e:
        return e
    body = req.json() or {k: v for k, v in req.raw.form.items()}
    labels = _names(body.get("labels"))
    add, remove = _names(body.get("add_labels")) or [], _names(body.get("remove_labels")) or []
    if labels is None and not add and not remove and not ({"title", "state_event"} & set(body)):
        return error(400, "400 Bad request - at least one parameter must be provided")
    new = list(labels if labels is not None else i.labels)
    new = [x for x in new + [a for a in add if a not in new] if x.lower() not in {r.lower() for r in remove}]
    changes: dict = {}
    if new != i.labels:
        changes["labels"] = new
    if "title" in body and body["title"] != i.title:
        changes["title"] = str(body["title"])
    if body.get("state_event") in ("close", "reopen"):
        changes["state"] = "closed" if body["state_event"] == "close" else "opened"
    if changes:  # GitLab leaves updated_at alone when an edit changes nothing
        sb.gitlab.update(i.project, i.iid, sb.clock.ts(), **changes)
    return json_resp(issue_obj(sb.gitlab, i, req.base))


def _milestones(sb, req: Req, where: dict) -> Resp:
    state = req.args.get("state")
    ms = [mid for mid, x in sorted(sb.gitlab.milestones.items()) if where(x) and (not state or x["state"] == state)]
    chunk, headers = _offset_page(req, ms)
    return json_resp([milestone_obj(sb.gitlab, mid) for mid in chunk], headers=headers)


@router.add("GET", PROJECT + r"/milestones", "gitlab.project_milestones")
def project_milestones(sb, req: Req, m: dict) -> Resp:
    p, e = _project(sb, m)
    if e:
        return e
    with_group = req.args.get("include_ancestors") in ("true", "1")
    return _milestones(sb, req, lambda x: x.get("project") == p["path"]
                       or (with_group and p["path"].startswith((x.get("group") or "\0") + "/")))


@router.add("GET", GROUP + r"/milestones", "gitlab.group_milestones")
def group_milestones(sb, req: Req, m: dict) -> Resp:
    g, e = _group(sb, m)
    return e or _milestones(sb, req, lambda x: x.get("group") == g["path"])


@router.add("GET", PROJECT + r"/issues/(?P<iid>\d+)/notes", "gitlab.notes")
def notes(sb, req: Req, m: dict) -> Resp:
    i, e = _issue(sb, m)
    if e:
        return e
    chunk, headers = _offset_page(req, i.notes)
    return json_resp([note_obj(sb.gitlab, i, n) for n in chunk], headers=headers)


@router.add("POST", PROJECT + r"/issues/(?P<iid>\d+)/notes", "gitlab.note_add")
def note_add(sb, req: Req, m: dict) -> Resp:
    i, e = _issue(sb, m)
    if e:
        return e
    body = req.json().get("body")
    if not isinstance(body, str) or not body:
        return error(400, "400 Bad request - body is missing")
    return json_resp(note_obj(sb.gitlab, i, sb.gitlab.add_note(i, body, sb.clock.ts())), 201)


@router.add("PUT", PROJECT + r"/issues/(?P<iid>\d+)/notes/(?P<nid>\d+)", "gitlab.note_edit")
def note_edit(sb, req: Req, m: dict) -> Resp:
    i, e = _issue(sb, m)
    if e:
        return e
    note = next((n for n in i.notes if n["id"] == int(m["nid"])), None)
    if note is None:
        return not_found("Note Not Found")
    note["body"], note["updated"] = str(req.json().get("body", note["body"])), sb.clock.ts()
    sb.gitlab.bump()
    return json_resp(note_obj(sb.gitlab, i, note))


@router.add("GET", PROJECT, "gitlab.project")
def project_get(sb, req: Req, m: dict) -> Resp:
    p, e = _project(sb, m)
    return e or json_resp(project_obj(sb.gitlab, p["path"]))


@router.add("GET", API + r"/user", "gitlab.user")
def user(sb, req: Req, m: dict) -> Resp:
    return json_resp(user_obj(sb.gitlab, 0) | {"bot": True, "email": "plansync-bot@example.com"})


@router.add("GET", API + r"/version", "gitlab.version")
def version(sb, req: Req, m: dict) -> Resp:
    return json_resp({"version": "17.5.0-ee", "revision": "sandbox", "kas": {"enabled": False}, "enterprise": True})


@router.add("GET", GROUP, "gitlab.group")
def group_get(sb, req: Req, m: dict) -> Resp:
    g, e = _group(sb, m)
    if e:
        return e
    parent = sb.gitlab.groups.get(g["parent"]) if g["parent"] else None
    return json_resp({"id": g["id"], "name": g["name"], "path": g["name"], "full_path": g["path"],
                      "full_name": " / ".join(g["path"].split("/")), "parent_id": parent["id"] if parent else None,
                      "visibility": "private", "web_url": f"https://gitlab.example.com/groups/{g['path']}",
                      "description": ""})
