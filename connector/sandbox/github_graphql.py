"""GitHub GraphQL of the sandbox (POST /github/graphql): the Projects v2 subset plansync uses, executed
by graphql-core against GitHub's published schema (../shared/refdata), so every document is validated as
GitHub would and every answer is shaped by the real types. Points are charged by GitHub's documented rule.

Projects live beside the generated state (`projects(sb)`); tests and benchmarks add them with
`add_project`, `set_value` and `add_item`.
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from .github_api import router
from .state import gh_time
from .wire import Req, Resp, json_resp

SCHEMA_FILE = (Path(__file__).resolve().parents[2].parent / "shared" / "refdata" / "specs" / "github"
               / "github-graphql-schema-15.26.1.graphql.gz")
POINTS_PER_HOUR = 5000
_IDS = itertools.count(1)
_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def load_schema(path: Path = SCHEMA_FILE):
    """GitHub's public schema as a graphql-core schema. The published SDL repeats two field definitions and
    marks a few Node ids deprecated, which graphql-core's schema checks reject; both are GitHub's, so the
    SDL is taken as valid (the documents are still validated against it in full)."""
    from graphql import build_schema

    schema = build_schema(gzip.open(path, "rt", encoding="utf-8").read(), assume_valid_sdl=True)
    schema._validation_errors = []  # noqa: SLF001 - see the docstring: the SDL is GitHub's, taken as is
    return schema


def available() -> bool:
    return SCHEMA_FILE.exists()


# --- the sandbox's projects ------------------------------------------------------------------------
@dataclass
class Field:
    id: str
    name: str
    data_type: str  # DATE | ITERATION | SINGLE_SELECT | TEXT | NUMBER | ...
    options: list[dict] = field(default_factory=list)  # {id, name}
    iterations: list[dict] = field(default_factory=list)  # {id, title, startDate, duration}


@dataclass
class Item:
    id: str
    issue: tuple[str, int] | None  # (repo, number); None: a draft issue
    title: str = ""
    values: dict[str, object] = field(default_factory=dict)  # field name (case-folded) -> value
    updated_at: float = 0.0
    archived: bool = False


@dataclass
class Project:
    id: str
    owner: str
    number: int
    title: str
    fields: dict[str, Field]
    items: list[Item] = field(default_factory=list)
    updated_at: float = 0.0
    status_updates: list[dict] = field(default_factory=list)  # newest last


def projects(sb) -> dict[tuple[str, int], Project]:
    return sb.__dict__.setdefault("gh_projects", {})


def _node_id(prefix: str) -> str:
    with _LOCK:
        return f"{prefix}_sb{next(_IDS):08d}"


def add_project(sb, owner: str, number: int, title: str, fields: list[dict]) -> Project:
    """`fields`: {name, type, options: [names]} or {name, type: ITERATION, iterations: [(title, start, days)]}."""
    made = {}
    for spec in [{"name": "Title", "type": "TITLE"}, *fields]:
        f = Field(_node_id("PVTF"), spec["name"], spec["type"],
                  options=[{"id": _node_id("opt"), "name": n} for n in spec.get("options", ())],
                  iterations=[{"id": _node_id("itr"), "title": t, "startDate": str(s), "duration": d}
                              for t, s, d in spec.get("iterations", ())])
        made[f.name.casefold()] = f
    project = Project(_node_id("PVT"), owner, number, title, made, updated_at=sb.clock.ts())
    projects(sb)[(owner.casefold(), number)] = project
    return project


def add_item(sb, project: Project, repo: str | None, number: int | None = None, *, title: str = "",
             **values) -> Item:
    """An issue or pull request of the sandbox (repo, number), or a draft (repo None) in `project`."""
    item = Item(_node_id("PVTI"), (repo, number) if repo else None, title=title, updated_at=sb.clock.ts())
    project.items.append(item)
    project.updated_at = sb.clock.ts()
    for name, value in values.items():
        set_value(sb, project, item, name.replace("_", " "), value)
    return item


def set_value(sb, project: Project, item: Item, field_name: str, value) -> None:
    """Set a field of an item: a date (date or ISO text), an option name, an iteration title."""
    f = project.fields[field_name.casefold()]
    if f.data_type == "SINGLE_SELECT" and not any(o["name"] == value for o in f.options):
        raise KeyError(f"{field_name} has no option {value!r}")
    if f.data_type == "ITERATION" and not any(i["title"] == value for i in f.iterations):
        raise KeyError(f"{field_name} has no iteration {value!r}")
    item.values[f.name.casefold()] = str(value)
    item.updated_at = project.updated_at = sb.clock.ts()
    sb.state.bump()


# --- answers ---------------------------------------------------------------------------------------
class NotFound(Exception):
    pass


def _value(f: Field, raw: str) -> dict:
    if f.data_type == "DATE":
        return {"__typename": "ProjectV2ItemFieldDateValue", "date": raw}
    if f.data_type == "ITERATION":
        it = next(i for i in f.iterations if i["title"] == raw)
        return {"__typename": "ProjectV2ItemFieldIterationValue", "iterationId": it["id"], "title": it["title"],
                "startDate": it["startDate"], "duration": it["duration"]}
    if f.data_type == "SINGLE_SELECT":
        opt = next(o for o in f.options if o["name"] == raw)
        return {"__typename": "ProjectV2ItemFieldSingleSelectValue", "optionId": opt["id"], "name": opt["name"]}
    return {"__typename": "ProjectV2ItemFieldTextValue", "text": raw}


def _field_obj(f: Field) -> dict:
    base = {"id": f.id, "name": f.name, "dataType": f.data_type}
    if f.data_type == "SINGLE_SELECT":
        return base | {"__typename": "ProjectV2SingleSelectField", "options": [dict(o) for o in f.options]}
    if f.data_type == "ITERATION":
        return base | {"__typename": "ProjectV2IterationField", "configuration": {
            "iterations": [dict(i) for i in f.iterations], "completedIterations": []}}
    return base | {"__typename": "ProjectV2Field"}


def _content(sb, item: Item, base: str) -> dict | None:
    if item.issue is None:
        return {"__typename": "DraftIssue", "title": item.title}
    repo, number = item.issue
    issue = sb.state.gh_issues.get(repo, {}).get(number)
    if issue is None or issue.deleted:
        return None
    people = sb.state.people
    milestone = sb.state.repos[repo]["milestones"].get(issue.milestone) if issue.milestone else None
    state = issue.state.upper()
    return {"__typename": "PullRequest" if issue.is_pr else "Issue", "fullDatabaseId": str(issue.id),
            "number": issue.number, "title": issue.title, "body": issue.body,
            "url": f"https://github.com/{repo}/{'pull' if issue.is_pr else 'issues'}/{issue.number}",
            "state": state, "stateReason": (issue.state_reason or "").upper() or None,
            "createdAt": gh_time(issue.created_at), "updatedAt": gh_time(issue.updated_at),
            "closedAt": gh_time(issue.closed_at), "repository": {"nameWithOwner": repo},
            "milestone": {"title": milestone["title"]} if milestone else None,
            "labels": lambda info, first=None, **_: {"nodes": [{"name": n} for n in issue.labels[:first]]},
            "assignees": lambda info, first=None, **_: {
                "nodes": [{"login": people[a]["github_login"]} for a in issue.assignees[:first]]}}


def _items(sb, project: Project, base: str):
    def items(info, first=None, after=None, **_):
        visible = project.items
        start = int(after.rpartition(":")[2]) if after else 0
        size = max(0, min(first or 0, 100))
        page = visible[start:start + size]
        end = start + len(page)
        nodes = [_item_obj(sb, project, item, base) for item in page]
        return {"totalCount": len(visible), "nodes": nodes,
                "pageInfo": {"hasNextPage": end < len(visible), "endCursor": f"{project.id}:{end}" if page else None,
                             "hasPreviousPage": start > 0, "startCursor": f"{project.id}:{start}" if page else None}}
    return items


def _item_obj(sb, project: Project, item: Item, base: str) -> dict:
    def by_name(info, name):
        f = project.fields.get(name.casefold())
        raw = item.values.get(name.casefold()) if f else None
        return _value(f, raw) if raw is not None else None
    content = _content(sb, item, base)
    kind = {"DraftIssue": "DRAFT_ISSUE", "PullRequest": "PULL_REQUEST"}.get((content or {}).get("__typename"),
                                                                             "ISSUE" if content else "REDACTED")
    return {"id": item.id, "type": kind, "isArchived": item.archived, "updatedAt": gh_time(item.updated_at),
            "fieldValueByName": by_name, "content": content}


def _project_obj(sb, project: Project, base: str) -> dict:
    return {"__typename": "ProjectV2", "id": project.id, "title": project.title, "number": project.number,
            "url": f"https://github.com/orgs/{project.owner}/projects/{project.number}", "closed": False,
            "updatedAt": gh_time(project.updated_at), "items": _items(sb, project, base),
            "fields": lambda info, first=None, **_: {"nodes": [_field_obj(f) for f in project.fields.values()][:first],
                                                     "totalCount": len(project.fields)},
            "statusUpdates": lambda info, first=None, **_: {"nodes": [
                dict(u) for u in reversed(project.status_updates)][:first]}}


def _owner(sb, login: str, base: str):
    known = {full.split("/")[0].casefold() for full in sb.state.repos} | {k[0] for k in projects(sb)}
    if login.casefold() not in known:
        return None

    def project_v2(info, number):
        project = projects(sb).get((login.casefold(), number))
        if project is None:
            raise NotFound(f"Could not resolve to a ProjectV2 with the number {number}.")
        return _project_obj(sb, project, base)
    return {"__typename": "Organization", "login": login, "projectV2": project_v2}


_SEARCH = re.compile(r"project:(?P<owner>[\w.-]+)/(?P<number>\d+)|updated:>(?P<since>\S+)")


def _search(sb, query: str) -> dict:
    owner = number = since = None
    for m in _SEARCH.finditer(query):
        if m.group("owner"):
            owner, number = m.group("owner"), int(m.group("number"))
        elif m.group("since"):
            since = datetime.fromisoformat(m.group("since").replace("Z", "+00:00")).astimezone(UTC).timestamp()
    project = projects(sb).get(((owner or "").casefold(), number or 0))
    count = 0
    for item in project.items if project else ():
        if item.issue is not None:
            issue = sb.state.gh_issues.get(item.issue[0], {}).get(item.issue[1])
            if issue is not None and not issue.deleted and (since is None or math.floor(issue.updated_at) > since):
                count += 1
    return {"issueCount": count, "nodes": [], "pageInfo": {"hasNextPage": False}}


def _mutation_root(sb) -> dict:
    def find(update_id: str):
        for project in projects(sb).values():
            for update in project.status_updates:
                if update["id"] == update_id:
                    return project, update
        raise NotFound(f"Could not resolve to a node with the global id of '{update_id}'")

    def create(info, input):  # noqa: A002 - the schema's argument name
        project = next((p for p in projects(sb).values() if p.id == input["projectId"]), None)
        if project is None:
            raise NotFound(f"Could not resolve to a node with the global id of '{input['projectId']}'")
        now = gh_time(sb.clock.ts())
        update = {"id": _node_id("PVTSU"), "createdAt": now, "updatedAt": now,
                  **{k: input.get(k) for k in ("body", "status", "targetDate", "startDate")}}
        project.status_updates.append(update)
        return {"statusUpdate": dict(update)}

    def edit(info, input):  # noqa: A002
        _project, update = find(input["statusUpdateId"])
        update.update({k: input[k] for k in ("body", "status", "targetDate", "startDate") if k in input})
        update["updatedAt"] = gh_time(sb.clock.ts())
        return {"statusUpdate": dict(update)}
    return {"createProjectV2StatusUpdate": create, "updateProjectV2StatusUpdate": edit}


# --- cost ------------------------------------------------------------------------------------------
def query_cost(document, variables: dict) -> int:
    """GitHub's rule: each connection (a field with `first`/`last`) needs as many requests as its parent
    has nodes; the total over 100, rounded, at least 1. Mutations cost 1."""
    from graphql.language import FieldNode, FragmentSpreadNode, InlineFragmentNode, IntValueNode, VariableNode

    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    total = 0

    def walk(selection_set, multiplier: int) -> None:
        nonlocal total
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                size = None
                for arg in sel.arguments or ():
                    if arg.name.value in ("first", "last"):
                        v = arg.value
                        size = int(v.value) if isinstance(v, IntValueNode) else int(
                            variables.get(v.name.value) or 0) if isinstance(v, VariableNode) else 0
                if size is not None:
                    total += multiplier
                walk(sel.selection_set, multiplier * size if size is not None else multiplier)
            elif isinstance(sel, InlineFragmentNode):
                walk(sel.selection_set, multiplier)
            elif isinstance(sel, FragmentSpreadNode):
                walk(fragments[sel.name.value].selection_set, multiplier)

    operation = next(d for d in document.definitions if d.kind == "operation_definition")
    if operation.operation.value == "mutation":
        return 1
    walk(operation.selection_set, 1)
    return max(1, round(total / 100))


def points(sb, token: str, cost: int = 0) -> dict:
    now = int(sb.clock.ts())
    budgets = sb.__dict__.setdefault("gh_points", {})
    with _LOCK:
        b = budgets.get(token)
        if b is None or now >= b["reset"]:
            b = budgets[token] = {"used": 0, "reset": now + 3600}
        b["used"] += cost
        return {"limit": POINTS_PER_HOUR, "used": b["used"], "remaining": max(0, POINTS_PER_HOUR - b["used"]),
                "reset": b["reset"], "cost": cost}


# --- the endpoint ----------------------------------------------------------------------------------
@router.add("POST", r"/graphql", "github.graphql")
def handle(sb, req: Req, m: dict | None = None) -> Resp:
    from graphql import execute, parse, validate
    from graphql.error import GraphQLError

    try:
        body = json.loads(req.raw.get_data(cache=True) or b"{}")
        document = parse(body.get("query") or "")
    except (ValueError, GraphQLError) as exc:
        return json_resp({"errors": [{"message": f"Parse error: {exc}"}]}, 200)
    variables = body.get("variables") or {}
    schema = load_schema()
    problems = validate(schema, document)
    log = sb.__dict__.setdefault("graphql_log", [])
    if problems:
        answer = {"errors": [{"message": p.message, "locations": [{"line": loc.line, "column": loc.column}
                                                                  for loc in p.locations or ()]} for p in problems]}
        log.append((body.get("query"), variables, answer))
        return json_resp(answer, 200)
    token = req.raw.headers.get("Authorization", "").partition(" ")[2]
    cost = query_cost(document, variables)
    budget = points(sb, token)
    if budget["remaining"] < cost:
        answer = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 9000."}]}
        log.append((body.get("query"), variables, answer))
        return json_resp(answer, 200, _headers(budget))
    budget = points(sb, token, cost)
    root = {"repositoryOwner": lambda info, login: _owner(sb, login, req.base),
            "node": lambda info, id: _node(sb, id, req.base),  # noqa: A002
            "search": lambda info, query, type, **_: _search(sb, query),  # noqa: A002
            "rateLimit": {"cost": cost, "limit": budget["limit"], "remaining": budget["remaining"],
                          "used": budget["used"], "nodeCount": 0,
                          "resetAt": datetime.fromtimestamp(budget["reset"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}}
    operation = next(d for d in document.definitions if d.kind == "operation_definition")
    result = execute(schema, document, root_value=_mutation_root(sb) | root if operation.operation.value == "mutation"
                     else root, variable_values=variables)
    answer: dict = {"data": result.data}
    if result.errors:
        answer["errors"] = [_error(e) for e in result.errors]
    if operation.operation.value == "mutation":
        sb.state.bump()
    log.append((body.get("query"), variables, answer))
    return json_resp(answer, 200, _headers(budget))


def _node(sb, node_id: str, base: str):
    for project in projects(sb).values():
        if project.id == node_id:
            return _project_obj(sb, project, base)
    raise NotFound(f"Could not resolve to a node with the global id of '{node_id}'")


def _error(error) -> dict:
    out = error.formatted
    if isinstance(error.original_error, NotFound):
        out = {"type": "NOT_FOUND", **out}
    return out


def _headers(budget: dict) -> dict:
    return {"X-RateLimit-Limit": str(budget["limit"]), "X-RateLimit-Remaining": str(budget["remaining"]),
            "X-RateLimit-Reset": str(budget["reset"]), "X-RateLimit-Used": str(budget["used"]),
            "X-RateLimit-Resource": "graphql"}
