"""Renders sandbox GitLab records as GitLab REST API v4 JSON (issues, milestones, users, notes, projects),
following the response examples of GitLab's API documentation."""

from __future__ import annotations

from datetime import UTC, datetime

from .gitlab_state import GitlabIssue, GitlabState

WEB = "https://gitlab.example.com"  # web_url host: what a human opens (the API base is the sandbox's)


def gl_time(ts: float | None) -> str | None:
    """GitLab's wire format: UTC with milliseconds and Z, e.g. 2016-01-04T15:31:51.081Z."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def gl_date(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d") if ts is not None else None


def user_obj(st: GitlabState, idx: int) -> dict:
    p = st.people[idx]
    return {"id": 20_000 + idx, "username": p["github_login"], "name": p["display_name"], "state": "active",
            "locked": False, "avatar_url": None, "web_url": f"{WEB}/{p['github_login']}"}


def milestone_obj(st: GitlabState, mid: int) -> dict:
    m = st.milestones[mid]
    out = {"id": m["id"], "iid": m["iid"], "title": m["title"], "description": f"{m['title']}",
           "state": m["state"], "created_at": gl_time(m["created"]), "updated_at": gl_time(m["created"]),
           "due_date": gl_date(m["due"]), "start_date": gl_date(m["start"]), "expired": False}
    if m.get("project"):
        out["project_id"] = st.projects[m["project"]]["id"]
        out["web_url"] = f"{WEB}/{m['project']}/-/milestones/{m['iid']}"
    else:
        out["group_id"] = st.groups[m["group"]]["id"]
        out["web_url"] = f"{WEB}/groups/{m['group']}/-/milestones/{m['iid']}"
    return out


def iteration_obj(st: GitlabState, itid: int) -> dict:
    it = st.iterations[itid]
    state = {"upcoming": 1, "current": 2, "closed": 3}[it["state"]]
    return {"id": it["id"], "iid": it["iid"], "sequence": it["sequence"], "group_id": st.groups[it["group"]]["id"],
            "title": it["title"], "description": None, "state": state, "created_at": gl_time(it["start"]),
            "updated_at": gl_time(it["start"]), "start_date": gl_date(it["start"]), "due_date": gl_date(it["due"]),
            "web_url": f"{WEB}/groups/{it['group']}/-/iterations/{it['id']}"}


def issue_obj(st: GitlabState, i: GitlabIssue, base: str) -> dict:
    project = st.projects[i.project]
    api = f"{base}/api/v4/projects/{project['id']}/issues/{i.iid}"
    assignees = [user_obj(st, a) for a in i.assignees]
    links = {"self": api, "notes": f"{api}/notes", "award_emoji": f"{api}/award_emoji",
             "project": f"{base}/api/v4/projects/{project['id']}"}
    if i.duplicate_of is not None and i.state == "closed" and i.duplicate_of in st.issues:
        original = st.issues[i.duplicate_of]
        links["closed_as_duplicate_of"] = (f"{base}/api/v4/projects/{st.projects[original.project]['id']}"
                                           f"/issues/{original.iid}")
    return {
        "id": i.id, "iid": i.iid, "project_id": project["id"], "title": i.title, "description": i.description,
        "state": i.state, "created_at": gl_time(i.created_at), "updated_at": gl_time(i.updated_at),
        "closed_at": gl_time(i.closed_at), "closed_by": user_obj(st, i.author) if i.state == "closed" else None,
        "labels": list(i.labels), "milestone": milestone_obj(st, i.milestone) if i.milestone else None,
        "assignees": assignees, "author": user_obj(st, i.author), "type": "ISSUE",
        "assignee": assignees[0] if assignees else None, "user_notes_count": len(i.notes),
        "merge_requests_count": 0, "upvotes": 0, "downvotes": 0, "due_date": None, "confidential": False,
        "discussion_locked": None, "issue_type": "issue", "web_url": f"{WEB}/{i.project}/-/issues/{i.iid}",
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None,
                       "human_total_time_spent": None},
        "task_completion_status": {"count": 0, "completed_count": 0}, "weight": i.weight,
        "blocking_issues_count": 0, "has_tasks": False, "_links": links,
        "references": {"short": f"#{i.iid}", "relative": f"#{i.iid}", "full": f"{i.project}#{i.iid}"},
        "severity": "UNKNOWN", "moved_to_id": i.moved_to_id, "imported": False, "imported_from": "none",
        "service_desk_reply_to": None, "epic_iid": None, "epic": None,
        "iteration": iteration_obj(st, i.iteration) if i.iteration else None, "health_status": None,
    }


def note_obj(st: GitlabState, i: GitlabIssue, note: dict) -> dict:
    return {"id": note["id"], "type": None, "body": note["body"], "attachment": None,
            "author": user_obj(st, note["author"]), "created_at": gl_time(note["created"]),
            "updated_at": gl_time(note["updated"]), "system": False, "noteable_id": i.id,
            "noteable_type": "Issue", "project_id": st.projects[i.project]["id"], "resolvable": False,
            "confidential": False, "internal": False, "noteable_iid": i.iid, "commands_changes": {}}


def project_obj(st: GitlabState, path: str) -> dict:
    p = st.projects[path]
    group = st.groups[p["group"]]
    return {"id": p["id"], "name": p["name"], "path": p["name"], "path_with_namespace": path,
            "name_with_namespace": " / ".join(path.split("/")), "description": None, "default_branch": "main",
            "visibility": "private", "web_url": f"{WEB}/{path}", "issues_enabled": True, "archived": False,
            "namespace": {"id": group["id"], "name": group["name"], "path": group["name"], "kind": "group",
                          "full_path": group["path"], "parent_id": st.groups[group["parent"]]["id"]
                          if group["parent"] else None, "web_url": f"{WEB}/groups/{group['path']}"}}
