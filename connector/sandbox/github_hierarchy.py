"""GitHub sub-issue and issue-dependency endpoints of the sandbox (read side), paged like every list."""

from __future__ import annotations

from .github_api import REPO, _lookup, _page, _repo, gh_error, router
from .github_render import issue_obj
from .wire import Req, Resp, json_resp

_SUB_DOCS = "https://docs.github.com/rest/issues/sub-issues"


def _related(sb, req: Req, m: dict, attr: str) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    issues = sb.state.gh_issues
    refs = [issues[r][n] for r, n in getattr(i, attr) if n in issues.get(r, {}) and not issues[r][n].deleted]
    chunk, headers = _page(req, refs)
    return json_resp([issue_obj(sb, x, req.base) for x in chunk], headers=headers)


@router.add("GET", REPO + r"/issues/(?P<n>\d+)/sub_issues", "github.sub_issues")
def sub_issues(sb, req: Req, m: dict) -> Resp:
    return _related(sb, req, m, "sub_issues")


@router.add("GET", REPO + r"/issues/(?P<n>\d+)/parent", "github.parent")
def parent(sb, req: Req, m: dict) -> Resp:
    i, e = _lookup(sb, req, _repo(m), int(m["n"]))
    if e:
        return e
    if i.parent is None:
        return gh_error(404, "Not Found", f"{_SUB_DOCS}#get-parent-issue")
    return json_resp(issue_obj(sb, sb.github_issue(*i.parent), req.base))


@router.add("GET", REPO + r"/issues/(?P<n>\d+)/dependencies/blocked_by", "github.blocked_by")
def blocked_by(sb, req: Req, m: dict) -> Resp:
    return _related(sb, req, m, "blocked_by")


@router.add("GET", REPO + r"/issues/(?P<n>\d+)/dependencies/blocking", "github.blocking")
def blocking(sb, req: Req, m: dict) -> Resp:
    return _related(sb, req, m, "blocking")
