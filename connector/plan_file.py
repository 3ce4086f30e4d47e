"""Loads plan.toml into the declared `Plan` and checks everything that can be checked offline."""

from __future__ import annotations

import os
import re
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from connector.errors import ConfigError
from connector.model import Plan, Scope
from connector.settings import Settings
from connector.tomlfile import Locator, config_error_from, read_toml

DEFAULT_PLAN = "plan.toml"
_GITHUB_ITEM = re.compile(r"^[\w.-]+/[\w.-]+#\d+$")
_JIRA_KEY = re.compile(r"^[A-Z][A-Z0-9_]+-\d+$")
_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")


def load_plan(path: str | Path | None = None, settings: Settings | None = None) -> Plan:
    """Read and validate plan.toml; with `settings`, scopes are checked against the configured trackers."""
    path = Path(path or os.environ.get("PLANSYNC_PLAN") or DEFAULT_PLAN)
    data, locator = read_toml(path, "plan file")
    try:
        plan = Plan(**data)
    except ValidationError as exc:
        raise config_error_from(exc, path, locator) from None
    except TypeError as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    _check(plan, _Where(path, locator), settings)
    return plan


class _Where:
    def __init__(self, path: Path, locator: Locator) -> None:
        self.path, self.locator = path, locator

    def error(self, message: str, *key: str | int) -> ConfigError:
        from connector.tomlfile import dotted

        return ConfigError(message, file=str(self.path), key=dotted(key) or None,
                           line=self.locator.line_of(key))


def _check(plan: Plan, where: _Where, settings: Settings | None) -> None:
    try:
        ZoneInfo(plan.plan.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise where.error(f"unknown timezone {plan.plan.timezone!r} (expected an IANA name such as "
                          "\"Europe/Berlin\")", "plan", "timezone") from None
    if not plan.milestones:
        raise where.error("the plan declares no milestones; add at least one [[milestones]]", "milestones")

    keys: dict[str, int] = {}
    for index, milestone in enumerate(plan.milestones):
        if milestone.key in keys:
            raise where.error(f"duplicate milestone key {milestone.key!r} (first used by milestones"
                              f"[{keys[milestone.key]}])", "milestones", index, "key")
        keys[milestone.key] = index
        if milestone.owner and milestone.owner not in plan.people:
            raise where.error(f"owner {milestone.owner!r} is not declared under [people]",
                              "milestones", index, "owner")
        if plan.plan.start and milestone.due < plan.plan.start:
            raise where.error(f"due date {milestone.due} is before the plan's start {plan.plan.start}",
                              "milestones", index, "due")
    for index, milestone in enumerate(plan.milestones):
        for dep in milestone.depends_on:
            if dep not in keys:
                raise where.error(f"depends_on names {dep!r}, which is no milestone", "milestones", index,
                                  "depends_on")
            if dep == milestone.key:
                raise where.error("a milestone cannot depend on itself", "milestones", index, "depends_on")
        for s_index, scope in enumerate(milestone.scope):
            _check_scope(scope, where, settings, "milestones", index, "scope", s_index)
    cycle = _find_cycle({m.key: list(m.depends_on) for m in plan.milestones})
    if cycle:
        first = keys[cycle[0]]
        raise where.error("dependency cycle: " + " -> ".join(cycle + [cycle[0]]), "milestones", first,
                          "depends_on")
    for index, risk in enumerate(plan.risks):
        if risk.milestone and risk.milestone not in keys:
            raise where.error(f"risk names milestone {risk.milestone!r}, which is not declared", "risks", index,
                              "milestone")
        if risk.owner and risk.owner not in plan.people:
            raise where.error(f"owner {risk.owner!r} is not declared under [people]", "risks", index, "owner")
    for index, scope in enumerate(plan.watch):
        _check_scope(scope, where, settings, "watch", index)
    for name, person in plan.people.items():
        if not (person.jira or person.github):
            raise where.error("a person needs at least one of `jira` or `github`", "people", name)


def _check_scope(scope: Scope, where: _Where, settings: Settings | None, *key: str | int) -> None:
    kind = None
    if settings is not None:
        if scope.tracker not in settings.trackers:
            known = ", ".join(sorted(settings.trackers)) or "none"
            raise where.error(f"unknown tracker {scope.tracker!r} (config.toml defines: {known})",
                              *key, "tracker")
        kind = settings.trackers[scope.tracker].kind
    narrowing = [k for k in ("milestone", "label", "items") if getattr(scope, k) is not None]
    if scope.jql is not None:
        if kind == "github":
            raise where.error(f"tracker {scope.tracker!r} is GitHub; a GitHub scope takes `repo` (with "
                              "`milestone`, `label` or `items`), not `jql`", *key, "jql")
        if scope.repo or narrowing:
            raise where.error("a JQL scope takes only `tracker` and `jql`", *key)
        if not scope.jql.strip():
            raise where.error("`jql` is empty; Jira refuses unbounded searches", *key, "jql")
        return
    if kind == "jira" or (kind is None and scope.repo is None):
        if scope.repo or scope.milestone or scope.label:
            raise where.error(f"tracker {scope.tracker!r} is Jira; a Jira scope takes `jql` (or `items` "
                              "with issue keys), not `repo`/`milestone`/`label`", *key)
        if not scope.items:
            raise where.error("a Jira scope needs `jql` or `items`", *key)
        for item in scope.items:
            if not _JIRA_KEY.match(item):
                raise where.error(f"{item!r} is not a Jira issue key like CHK-12", *key, "items")
        return
    if not scope.repo:
        raise where.error("a GitHub scope needs `repo = \"owner/name\"`", *key)
    if not _REPO.match(scope.repo):
        raise where.error(f"{scope.repo!r} is not a repository like \"acme/checkout-web\"", *key, "repo")
    if len(narrowing) > 1:
        raise where.error(f"give at most one of milestone/label/items in a scope (got {', '.join(narrowing)})",
                          *key)
    for item in scope.items or ():
        if not _GITHUB_ITEM.match(item):
            raise where.error(f"{item!r} is not an issue reference like \"acme/checkout-web#12\"", *key, "items")


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None
