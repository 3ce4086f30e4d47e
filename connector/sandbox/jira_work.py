"""Jira endpoints a person works with: create and edit issues, walk the workflow, list projects and users.

Enough for the `jira` library's create_issue, issue.update, transitions/transition_issue, projects and
search_users to work unmodified. Malformed bodies are answered 400 in Jira's errorMessages/errors shape.
"""

from __future__ import annotations

from . import jira_render as render
from .generator import ISSUE_TYPES, JIRA_STATUSES
from .jira_api import API, NOT_FOUND, _find, _plain, err, router
from .wire import BadRequest, Req, Resp, json_resp

# Jira's simplified workflow: every status can move to every other one, each transition named after
# its target status ("All" transitions), with a stable id per target.
TRANSITION_IDS = {name: str(11 + 10 * n) for n, name in enumerate(JIRA_STATUSES)}
EDITABLE = {"summary", "description", "labels", "assignee", "duedate", "fixVersions", "priority"}


def _field_error(field: str, message: str) -> BadRequest:
    return BadRequest("", 400, {field: message})


def _name_or_id(value, field: str) -> str:
    if isinstance(value, dict) and isinstance(value.get("name", value.get("id", value.get("key"))), str):
        return value.get("name") or value.get("id") or value.get("key")
    raise _field_error(field, f"Could not find valid 'id' or 'name' in {field} object.")


def _labels(current: list[str], ops, fields: dict) -> list[str]:
    labels = list(current)
    if not isinstance(ops, list):
        raise _field_error("labels", "Operation value must be an array of operations.")
    for op in ops:
        if not isinstance(op, dict) or not set(op) <= {"add", "remove", "set"} or not op:
            raise _field_error("labels", "Operation value must be an object with add, remove or set.")
        for verb, value in op.items():
            values = value if verb == "set" else [value]
            if not isinstance(values, list) or not all(isinstance(x, str) for x in values):
                raise _field_error("labels", "Operation value must be a string.")
            if verb == "add" and value not in labels:
                labels.append(value)
            elif verb == "remove" and value in labels:
                labels.remove(value)
            elif verb == "set":
                labels = list(values)
    if "labels" in fields:
        if not isinstance(fields["labels"], list) or not all(isinstance(x, str) for x in fields["labels"]):
            raise _field_error("labels", "Field 'labels' must be an array of strings.")
        labels = list(fields["labels"])
    if any(not x or " " in x for x in labels):
        raise _field_error("labels", "The label can't contain spaces.")
    return labels


def edit_changes(sb, i, body: dict, *, creating: bool = False, project: str | None = None) -> dict:
    """Keyword changes for Sandbox.update_jira_issue from an edit body ({fields}, {update}); BadRequest if bad."""
    fields, update = body.get("fields", {}), body.get("update", {})
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise BadRequest("Can not deserialize the request body: 'fields' and 'update' must be objects.")
    allowed = EDITABLE | ({"project", "issuetype"} if creating else set())
    for name in list(fields) + list(update):
        if name not in allowed:
            raise _field_error(name, f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                                     "or unknown.")
    out: dict = {}
    if "labels" in fields or "labels" in update:
        labels = _labels(i.labels if i else [], update.get("labels", []), fields)
        if i is None or labels != i.labels:
            out["labels"] = labels
    if "summary" in fields:
        if not isinstance(fields["summary"], str) or not fields["summary"].strip():
            raise _field_error("summary", "You must specify a summary of the issue.")
        out["summary"] = fields["summary"]
    if "description" in fields:
        out["description"] = _plain(fields["description"] or "")
    if "assignee" in fields:
        who = fields["assignee"]
        ref = None if who is None else (who.get("accountId") or who.get("name") or who.get("id")) \
            if isinstance(who, dict) else who
        if ref is not None and sb.state.person_by_account(str(ref)) is None:
            raise _field_error("assignee", f"User '{ref}' cannot be assigned issues.")
        out["assignee"] = False if ref is None else str(ref)
    if "duedate" in fields:
        out["duedate"] = fields["duedate"] or ""
    if "fixVersions" in fields:
        vals = fields["fixVersions"]
        if not isinstance(vals, list):
            raise _field_error("fixVersions", "Field 'fixVersions' must be an array of versions.")
        project = i.project if i else project
        names = {sb.state.versions[v]["name"]: v for v in sb.state.projects[project]["versions"]} if project else {}
        ids = []
        for v in vals:
            ref = _name_or_id(v, "fixVersions")
            vid = names.get(ref) or (int(ref) if ref.isdigit() and int(ref) in names.values() else None)
            if vid is None:
                raise _field_error("fixVersions", f"Version name '{ref}' is not valid")
            ids.append(vid)
        out["fix_versions"] = ids
    return out


@router.add("PUT", API + r"/issue/(?P<key>[^/]+)", "jira.issue_put")
def issue_put(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    from .jira_bulk import note_write, single_put_notify

    would_email, refusal = single_put_notify(sb, req)
    if refusal is not None:
        return refusal
    changes = edit_changes(sb, i, req.body())
    if changes:
        _apply(sb, i, changes)
        note_write(sb, req.flavour, notify=would_email)
    return Resp(204)


def _apply(sb, i, changes: dict) -> None:
    description = changes.pop("description", None)
    if description is not None:
        i.description = description
    sb.update_jira_issue(i.key, **changes)


@router.add("POST", API + r"/issue", "jira.issue_create")
def issue_create(sb, req: Req, m: dict) -> Resp:
    body = req.body()
    fields = body.get("fields")
    if not isinstance(fields, dict):
        raise BadRequest("", 400, {"project": "Specify a valid project ID or key",
                                   "summary": "You must specify a summary of the issue.",
                                   "issuetype": "Specify an issue type"})
    ref = _name_or_id(fields.get("project"), "project") if "project" in fields else None
    proj = sb.state.projects.get(str(ref).upper()) or next(
        (p for p in sb.state.projects.values() if p["id"] == ref), None)
    if proj is None:
        raise _field_error("project", "Specify a valid project ID or key")
    itype = _name_or_id(fields.get("issuetype"), "issuetype") if "issuetype" in fields else None
    itype = next((n for n, tid in ISSUE_TYPES.items() if itype in (n, tid)), None)
    if itype is None:
        raise _field_error("issuetype", "Specify a valid issue type")
    changes = edit_changes(sb, None, {"fields": {k: v for k, v in fields.items() if k not in ("project", "issuetype")},
                                      "update": body.get("update", {})}, creating=True, project=proj["key"])
    if "summary" not in changes:
        raise _field_error("summary", "You must specify a summary of the issue.")
    i = sb.create_jira_issue(proj["key"], changes.pop("summary"), issuetype=itype,
                             description=changes.pop("description", ""), labels=changes.pop("labels", ()),
                             fix_versions=changes.pop("fix_versions", ()))
    if changes:
        _apply(sb, i, changes)
    return json_resp({"id": str(i.id), "key": i.key, "self": f"{req.base}/rest/api/{m['v']}/issue/{i.id}"}, 201)


def _transition(name: str, base: str) -> dict:
    return {"id": TRANSITION_IDS[name], "name": name, "to": render.status(name, base), "hasScreen": False,
            "isGlobal": True, "isInitial": False, "isAvailable": True, "isConditional": False, "isLooped": False}


@router.add("GET", API + r"/issue/(?P<key>[^/]+)/transitions", "jira.transitions")
def transitions(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    wanted = req.args.get("transitionId")
    out = [_transition(n, req.base) for n in JIRA_STATUSES if n != i.status
           and (wanted is None or TRANSITION_IDS[n] == wanted)]
    return json_resp({"expand": "transitions", "transitions": out})


@router.add("POST", API + r"/issue/(?P<key>[^/]+)/transitions", "jira.transition_do")
def transition_do(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    body = req.body()
    tid = body.get("transition", {}).get("id") if isinstance(body.get("transition"), dict) else None
    target = next((n for n, t in TRANSITION_IDS.items() if t == str(tid) and n != i.status), None)
    if target is None:
        return err(400, f"Transition id '{tid}' is not valid for this issue.")
    resolution = body.get("fields", {}).get("resolution") if isinstance(body.get("fields"), dict) else None
    changes = edit_changes(sb, i, {"fields": {k: v for k, v in body.get("fields", {}).items() if k != "resolution"},
                                   "update": body.get("update", {})})
    sb.update_jira_issue(i.key, status=target,
                         resolution=_name_or_id(resolution, "resolution") if resolution else None)
    if changes:
        _apply(sb, i, changes)
    return Resp(204)


@router.add("PUT", API + r"/issue/(?P<key>[^/]+)/assignee", "jira.assign")
def assign(sb, req: Req, m: dict) -> Resp:
    i = _find(sb, m["key"])
    if i is None:
        return json_resp(NOT_FOUND, 404)
    body = req.body()
    ref = body.get("accountId") or body.get("name") or body.get("key")
    if ref not in (None, "-1") and sb.state.person_by_account(str(ref)) is None:
        return err(400, f"User '{ref}' cannot be assigned issues.")
    sb.update_jira_issue(i.key, assignee=False if ref in (None, "-1") else str(ref))
    return Resp(204)


@router.add("GET", API + r"/project", "jira.projects")
def projects(sb, req: Req, m: dict) -> Resp:
    return json_resp([render.project(sb.state, k, req.base) for k in sorted(sb.state.projects)])


@router.add("GET", API + r"/project/search", "jira.project_search")
def project_search(sb, req: Req, m: dict) -> Resp:
    start, size = max(0, req.int_arg("startAt", 0)), max(0, min(req.int_arg("maxResults", 50), 100))
    query = req.args.get("query", "").lower()
    vals = [render.project(sb.state, k, req.base) for k in sorted(sb.state.projects)
            if query in k.lower() or query in sb.state.projects[k]["name"].lower()]
    page = vals[start:start + size]
    url = f"{req.base}/rest/api/{m['v']}/project/search"
    return json_resp({"self": f"{url}?startAt={start}&maxResults={size}", "maxResults": size, "startAt": start,
                      "total": len(vals), "isLast": start + len(page) >= len(vals), "values": page})


def _users(sb, req: Req) -> list[dict]:
    q = (req.args.get("query") or req.args.get("username") or "").lower()
    picked = [n for n, p in enumerate(sb.state.people)
              if not q or any(q in str(p[f]).lower() for f in ("display_name", "email", "key"))]
    start, size = max(0, req.int_arg("startAt", 0)), max(0, min(req.int_arg("maxResults", 50), 1000))
    return [render.user(sb.state, n, req.base, req.flavour) for n in picked[start:start + size]]


@router.add("GET", API + r"/user/search", "jira.user_search")
def user_search(sb, req: Req, m: dict) -> Resp:
    return json_resp(_users(sb, req))


@router.add("GET", API + r"/user/assignable/search", "jira.user_assignable")
def user_assignable(sb, req: Req, m: dict) -> Resp:
    return json_resp(_users(sb, req))


@router.add("GET", API + r"/user", "jira.user")
def user_get(sb, req: Req, m: dict) -> Resp:
    ref = req.args.get("accountId") or req.args.get("username") or req.args.get("key") or ""
    idx = sb.state.person_by_account(ref)
    if idx is None:
        return err(404, f"The user with account ID '{ref}' does not exist.")
    return json_resp(render.user(sb.state, idx, req.base, req.flavour))
