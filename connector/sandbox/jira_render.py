"""Renders sandbox Jira records as Jira Cloud (v2/v3) or Server JSON, field by field."""

from __future__ import annotations

from .generator import ISSUE_TYPES, JIRA_STATUSES, RESOLUTIONS, adf
from .state import JiraIssue, State, jira_time
from .wire import memo as _memo

SPRINT_FIELD = "customfield_10020"
EPIC_LINK_FIELD = "customfield_10014"
POINTS_FIELD = {"cloud": "customfield_10016", "server": "customfield_10002"}
CATEGORY = {"new": (2, "blue-gray", "To Do"), "indeterminate": (4, "yellow", "In Progress"),
            "done": (3, "green", "Done")}
NAVIGABLE = ("summary", "status", "issuetype", "project", "assignee", "reporter", "creator", "created",
             "updated", "resolution", "resolutiondate", "labels", "fixVersions", "versions", "components",
             "duedate", "description", "priority", "parent", "issuelinks", "subtasks", "statuscategorychangedate",
             SPRINT_FIELD, EPIC_LINK_FIELD, "customfield_10016", "customfield_10002")
ALL_FIELDS = (*NAVIGABLE, "comment")
def user(st: State, idx: int | None, base: str, flavour: str) -> dict | None:
    if idx is None:
        return None
    return _memo(("user", id(st), idx, base, flavour), lambda: _user(st, idx, base, flavour))


def _user(st: State, idx: int, base: str, flavour: str) -> dict:
    p = st.people[idx]
    avatar = f"https://avatar.example/{p['key']}.png"
    out = {"self": f"{base}/rest/api/2/user?accountId={p['jira_account_id']}",
           "accountId": p["jira_account_id"], "emailAddress": p["email"],
           "avatarUrls": {s: avatar for s in ("48x48", "24x24", "16x16", "32x32")},
           "displayName": p["display_name"], "active": True, "timeZone": "UTC", "accountType": "atlassian"}
    if flavour == "server":
        # Server users are keyed by name/key; there is no accountId.
        del out["accountId"], out["accountType"]
        out["self"] = f"{base}/rest/api/2/user?username={p['key']}"
        out["name"] = out["key"] = p["key"]
    return out


def status(name: str, base: str) -> dict:
    return _memo(("status", name, base), lambda: _status(name, base))


def _status(name: str, base: str) -> dict:
    sid, cat = JIRA_STATUSES[name]
    cid, color, cname = CATEGORY[cat]
    return {"self": f"{base}/rest/api/2/status/{sid}", "description": "", "iconUrl": f"{base}/images/icons/status.png",
            "name": name, "id": sid, "statusCategory": {"self": f"{base}/rest/api/2/statuscategory/{cid}",
                                                        "id": cid, "key": cat, "colorName": color, "name": cname}}


def version(st: State, vid: int, base: str, today: str = "") -> dict:
    v = st.versions[vid]
    out = {"self": f"{base}/rest/api/2/version/{vid}", "id": str(vid), "description": v["description"],
           "name": v["name"], "archived": v["archived"], "released": v["released"], "releaseDate": v["releaseDate"]}
    if today:
        out["projectId"] = int(st.projects[v["project"]]["id"])
        out["startDate"] = v["startDate"]
        out["overdue"] = (not v["released"]) and v["releaseDate"] < today
        out["userReleaseDate"] = v["releaseDate"]
    return out


def sprint(st: State, sid: int, base: str) -> dict:
    s = st.sprints[sid]
    out = {"id": sid, "name": s["name"], "state": s["state"], "boardId": s["board"], "goal": s["goal"],
           "startDate": jira_iso(s["start"]), "endDate": jira_iso(s["end"])}
    if s["complete"]:
        out["completeDate"] = jira_iso(s["complete"])
    return out


def agile_sprint(st: State, sid: int, base: str) -> dict:
    out = sprint(st, sid, base)
    out["self"] = f"{base}/rest/agile/1.0/sprint/{sid}"
    out["originBoardId"] = out.pop("boardId")
    out["createdDate"] = out["startDate"]
    return out


def jira_iso(ts: float) -> str:
    # The agile API uses ISO instants with Z, e.g. 2020-06-26T00:38:00.000Z.
    return jira_time(ts).replace("+0000", "Z")


def project(st: State, key: str, base: str) -> dict:
    return _memo(("project", id(st), key, base), lambda: _project(st, key, base))


def _project(st: State, key: str, base: str) -> dict:
    p = st.projects[key]
    return {"self": f"{base}/rest/api/2/project/{p['id']}", "id": p["id"], "key": key, "name": p["name"],
            "projectTypeKey": "software", "simplified": False,
            "avatarUrls": {size: f"{base}/secure/projectavatar?pid={p['id']}&size={size}"
                           for size in ("48x48", "24x24", "16x16", "32x32")}}


def text_value(text: str, api_version: str, flavour: str):
    return adf(text) if flavour == "cloud" and api_version == "3" else text


def comment(st: State, issue: JiraIssue, c: dict, base: str, api_version: str, flavour: str) -> dict:
    author = user(st, c["author"], base, flavour)
    return {"self": f"{base}/rest/api/{api_version}/issue/{issue.id}/comment/{c['id']}", "id": str(c["id"]),
            # an ADF document a v3 client posted comes back as posted; v2 reads its text
            "author": author, "body": c["adf"] if "adf" in c and flavour == "cloud" and api_version == "3"
            else text_value(c["body"], api_version, flavour), "updateAuthor": author,
            "created": jira_time(c["created"], st.render_tz), "updated": jira_time(c["updated"], st.render_tz),
            "jsdPublic": True}


def field_value(st: State, i: JiraIssue, name: str, base: str, v: str, flavour: str):
    if name == "summary":
        return i.summary
    if name == "status":
        return status(i.status, base)
    if name == "issuetype":
        return _memo(("type", i.issuetype, base), lambda: _issuetype(i.issuetype, base))
    return _field_rest(st, i, name, base, v, flavour)


def _issuetype(itype: str, base: str) -> dict:
    tid = ISSUE_TYPES[itype]
    return {"self": f"{base}/rest/api/2/issuetype/{tid}", "id": tid, "name": itype,
            "description": "", "iconUrl": f"{base}/images/icons/{itype.lower()}.svg",
            "subtask": False, "avatarId": 10300 + int(tid) % 100, "hierarchyLevel": 1 if itype == "Epic" else 0}


def _field_rest(st: State, i: JiraIssue, name: str, base: str, v: str, flavour: str):
    if name == "project":
        return project(st, i.project, base)
    if name in ("assignee", "reporter", "creator"):
        return user(st, i.assignee if name == "assignee" else i.reporter, base, flavour)
    if name in ("created", "updated"):
        return jira_time(getattr(i, name), st.render_tz)
    if name == "resolution":
        return None if not i.resolution else {"self": f"{base}/rest/api/2/resolution/{RESOLUTIONS[i.resolution]}",
                                              "id": RESOLUTIONS[i.resolution], "description": "",
                                              "name": i.resolution}
    if name == "resolutiondate":
        return jira_time(i.resolved, st.render_tz) if i.resolved else None
    if name == "statuscategorychangedate":
        ts = max([h[0] for h in i.history if any(x[0] == "status" for x in h[2])], default=i.created)
        return jira_time(ts, st.render_tz)
    if name == "labels":
        return list(i.labels)
    if name == "fixVersions":
        return [_memo(("version", id(st), x, base), lambda x=x: version(st, x, base)) for x in i.fix_versions]
    if name == "issuelinks":
        return issue_links(st, i, base, v, flavour)
    if name in ("versions", "components", "subtasks"):
        return []
    if name == "duedate":
        return i.duedate
    if name == "description":
        return text_value(i.description, v, flavour)
    if name == "priority":
        return {"self": f"{base}/rest/api/2/priority/3", "iconUrl": f"{base}/images/icons/priorities/medium.svg",
                "name": "Medium", "id": "3"}
    if name == "parent":
        if i.parent is None:
            return None
        p = st.jira_issues[i.parent]
        return {"id": str(p.id), "key": p.key, "self": f"{base}/rest/api/{v}/issue/{p.id}",
                "fields": {"summary": p.summary, "status": status(p.status, base),
                           "issuetype": field_value(st, p, "issuetype", base, v, flavour)}}
    if name == SPRINT_FIELD:
        return [_memo(("sprint", id(st), s, base), lambda s=s: sprint(st, s, base)) for s in i.sprints] or None
    if name == EPIC_LINK_FIELD:
        return st.jira_issues[i.parent].key if i.parent is not None else None
    if name in POINTS_FIELD.values():
        return i.story_points
    if name == "comment":
        cs = [comment(st, i, c, base, v, flavour) for c in i.comments]
        return {"comments": cs, "self": f"{base}/rest/api/{v}/issue/{i.id}/comment", "maxResults": len(cs),
                "total": len(cs), "startAt": 0}
    raise KeyError(name)


def issue_links(st: State, i: JiraIssue, base: str, v: str, flavour: str) -> list[dict]:
    """The Blocks links of an issue: `inwardIssue` for each issue blocking it, `outwardIssue` for each it blocks."""
    kind = {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks",
            "self": f"{base}/rest/api/{v}/issueLinkType/10000"}
    out = []
    for side, ids in (("inwardIssue", i.blocked_by), ("outwardIssue", i.blocks)):
        for other_id in ids:
            o = st.jira_issues.get(other_id)
            if o is None or o.deleted:
                continue
            a, b = (o.id, i.id) if side == "inwardIssue" else (i.id, o.id)
            link_id = str(30000 + (a * 7919 + b) % 1_000_000)
            out.append({"id": link_id, "self": f"{base}/rest/api/{v}/issueLink/{link_id}", "type": kind,
                        side: {"id": str(o.id), "key": o.key, "self": f"{base}/rest/api/{v}/issue/{o.id}",
                               "fields": {"summary": o.summary, "status": status(o.status, base),
                                          "issuetype": field_value(st, o, "issuetype", base, v, flavour)}}})
    return out


def wanted_fields(spec: list[str], flavour: str) -> list[str]:
    """Resolve a `fields` request (names, *all, *navigable, -name) into concrete field names."""
    out: list[str] = []
    for f in spec:
        f = f.strip()
        if f in ("*all", "*navigable"):
            out.extend(ALL_FIELDS if f == "*all" else NAVIGABLE)
        elif f and not f.startswith("-"):
            out.append(f)
    drop = {f[1:] for f in spec if f.startswith("-")}
    own = {"cloud": POINTS_FIELD["server"], "server": POINTS_FIELD["cloud"]}[flavour]
    # Cloud dropped Epic Link from responses in favour of parent; Server has no parent for epics.
    hidden = {own, EPIC_LINK_FIELD if flavour == "cloud" else "parent"}
    seen, result = set(), []
    for f in out:
        if f not in seen and f not in drop and f not in hidden and f in ALL_FIELDS:
            seen.add(f)
            result.append(f)
    return result


def issue(st: State, i: JiraIssue, base: str, v: str, flavour: str, fields: list[str], expand: set[str]) -> dict:
    concrete = [f for f in fields if f not in ("id", "key")]
    if fields == ["id"]:
        return {"id": str(i.id)}
    out = {"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields", "id": str(i.id),
           "self": f"{base}/rest/api/{v}/issue/{i.id}", "key": i.key}
    if concrete or fields != ["id", "key"]:
        out["fields"] = {f: field_value(st, i, f, base, v, flavour) for f in concrete}
    if "changelog" in expand:
        out["changelog"] = changelog(st, i, base, flavour)
    return out


def changelog(st: State, i: JiraIssue, base: str, flavour: str) -> dict:
    hist = []
    for n, (ts, who, items) in enumerate(i.history):
        hist.append({"id": str(i.id * 100 + n), "author": user(st, who, base, flavour),
                     "created": jira_time(ts, st.render_tz),
                     "items": [_change(f, fr, frs, to, tos) for f, fr, frs, to, tos in items]})
    return {"startAt": 0, "maxResults": len(hist), "total": len(hist), "histories": hist}


FIELD_IDS = {"Fix Version": "fixVersions", "status": "status", "resolution": "resolution", "labels": "labels",
             "summary": "summary", "assignee": "assignee", "project": "project"}


def _change(f, fr, frs, to, tos) -> dict:
    out = {"field": f, "fieldtype": "jira", "from": fr, "fromString": frs, "to": to, "toString": tos}
    if f in FIELD_IDS:
        out["fieldId"] = FIELD_IDS[f]
    return out
