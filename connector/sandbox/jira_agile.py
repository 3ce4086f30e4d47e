"""Jira Software (agile) endpoints of the sandbox: boards and their sprints, paged like Jira does."""

from __future__ import annotations

from . import jira_render as render
from .jira_api import err, router
from .wire import Req, Resp, json_resp


@router.add("GET", r"/rest/agile/1.0/board", "jira.agile_boards")
def boards(sb, req: Req, m: dict) -> Resp:
    """Filtered like Jira: projectKeyOrId keeps boards whose filter covers that project (a board may span
    projects: `spans`), `type` is a comma-separated list; `location` is always the board's own project."""
    ref = req.args.get("projectKeyOrId")
    types = {t for t in req.args.get("type", "").split(",") if t}
    if ref is not None:
        proj = sb.state.projects.get(ref.upper()) or next(
            (p for p in sb.state.projects.values() if p["id"] == ref), None)
        if proj is None:
            return err(400, f"No project could be found with key or id '{ref}'.")
        ref = proj["key"]
    picked = [b for b in sb.state.boards.values()
              if (ref is None or ref == b["project"] or ref in b.get("spans", ()))
              and (not types or b["type"] in types)]
    return _paged(req, [_board(sb, b, req.base) for b in picked])


def _board(sb, b: dict, base: str) -> dict:
    p = sb.state.projects[b["project"]]
    return {"id": b["id"], "self": f"{base}/rest/agile/1.0/board/{b['id']}", "name": b["name"], "type": b["type"],
            "location": {"projectId": int(p["id"]), "projectKey": b["project"], "projectName": p["name"],
                         "projectTypeKey": "software", "displayName": f"{p['name']} ({b['project']})",
                         "name": f"{p['name']} ({b['project']})"}}


@router.add("GET", r"/rest/agile/1.0/board/(?P<bid>\d+)", "jira.agile_board")
def board(sb, req: Req, m: dict) -> Resp:
    b = sb.state.boards.get(int(m["bid"]))
    if not b:
        return err(404, f"Board {m['bid']} does not exist or you do not have permission to see it.")
    return json_resp(_board(sb, b, req.base))


@router.add("GET", r"/rest/agile/1.0/board/(?P<bid>\d+)/sprint", "jira.agile_sprints")
def board_sprints(sb, req: Req, m: dict) -> Resp:
    b = sb.state.boards.get(int(m["bid"]))
    if not b:
        return err(404, f"Board {m['bid']} does not exist or you do not have permission to see it.")
    states = {s for v in req.args.getlist("state") for s in v.split(",") if s}
    vals = [render.agile_sprint(sb.state, s, req.base) for s in b["sprints"]
            if not states or sb.state.sprints[s]["state"] in states]
    return _paged(req, vals)


def _paged(req: Req, vals: list) -> Resp:
    start, size = max(0, req.int_arg("startAt", 0)), max(0, min(req.int_arg("maxResults", 50), 50))
    page = vals[start:start + size]
    return json_resp({"maxResults": size, "startAt": start, "total": len(vals),
                      "isLast": start + len(page) >= len(vals), "values": page})
