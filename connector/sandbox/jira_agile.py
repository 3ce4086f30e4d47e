"""Jira Software (agile) endpoints of the sandbox: boards and their sprints, paged like Jira does."""

from __future__ import annotations

from . import jira_render as render
from .jira_api import err, router
from .wire import Req, Resp, json_resp


@router.add("GET", r"/rest/agile/1.0/board", "jira.agile_boards")
def boards(sb, req: Req, m: dict) -> Resp:
    vals = [{"id": b["id"], "self": f"{req.base}/rest/agile/1.0/board/{b['id']}", "name": b["name"],
             "type": b["type"], "location": {"projectId": int(sb.state.projects[b["project"]]["id"]),
                                             "projectKey": b["project"], "projectName":
                                             sb.state.projects[b["project"]]["name"]}}
            for b in sb.state.boards.values()]
    return _paged(req, vals)


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
    start, size = int(req.args.get("startAt", 0)), min(int(req.args.get("maxResults", 50)), 50)
    page = vals[start:start + size]
    return json_resp({"maxResults": size, "startAt": start, "total": len(vals),
                      "isLast": start + len(page) >= len(vals), "values": page})
