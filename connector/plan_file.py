"""Loads plan.toml into the declared `Plan` and checks everything that can be checked offline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from connector.errors import ConfigError
from connector.model import Plan
from connector.settings import Settings
from connector.tomlfile import Locator, config_error_from, dotted, read_toml
from connector.trackers import registry

DEFAULT_PLAN = "plan.toml"


def load_plan(path: str | Path | None = None, settings: Settings | None = None) -> Plan:
    """Read and validate plan.toml; with `settings`, scopes are checked against the configured trackers."""
    path = Path(path or os.environ.get("PLANSYNC_PLAN") or DEFAULT_PLAN)
    data, locator = read_toml(path, "plan file")
    where = _Where(path, locator)
    _type_scopes(data, where, settings)
    try:
        plan = Plan(**data)
    except ValidationError as exc:
        raise config_error_from(exc, path, locator) from None
    except TypeError as exc:
        raise ConfigError(str(exc), file=str(path)) from None
    _check(plan, where, settings)
    return plan


class _Where:
    def __init__(self, path: Path, locator: Locator) -> None:
        self.path, self.locator = path, locator

    def error(self, message: str, *key: str | int) -> ConfigError:
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
    identities = registry.identity_keys()
    for name, person in plan.people.items():
        for key, value in person.identities.items():
            if key not in identities:
                raise where.error(f"unknown key (expected `name` or a tracker identity: {', '.join(identities)})",
                                  "people", name, key)
            if not isinstance(value, str) or not value.strip():
                raise where.error("expected the person's identity in that tracker, as text", "people", name, key)
        if not person.identities:
            raise where.error(f"a person needs at least one of {' or '.join(f'`{k}`' for k in identities)}",
                              "people", name)


def _type_scopes(data: dict[str, Any], where: _Where, settings: Settings | None) -> None:
    """Turn every scope table into its kind's scope model, in place, with errors located in the file.

    The kind is the configured tracker's; without a config (a plan checked alone) the scope's keys say.
    """
    tables: list[tuple[tuple[str | int, ...], Any]] = []
    milestones = data.get("milestones")
    if isinstance(milestones, list):
        for index, milestone in enumerate(milestones):
            scopes = milestone.get("scope") if isinstance(milestone, dict) else None
            if isinstance(scopes, list):
                tables += [(("milestones", index, "scope", n), raw) for n, raw in enumerate(scopes)]
    if isinstance(data.get("watch"), list):
        tables += [(("watch", n), raw) for n, raw in enumerate(data["watch"])]
    for key, raw in tables:
        if not isinstance(raw, dict):
            continue  # the plan model says what is wrong with it
        scope = _typed_scope(raw, where, settings, key)
        container = data
        for part in key[:-1]:
            container = container[part]
        container[key[-1]] = scope


def _typed_scope(raw: dict[str, Any], where: _Where, settings: Settings | None, key: tuple[str | int, ...]):
    tracker = raw.get("tracker")
    if not isinstance(tracker, str):
        raise where.error("required key is missing" if tracker is None else "expected the tracker's name",
                          *key, "tracker")
    if settings is not None:
        if tracker not in settings.trackers:
            known = ", ".join(sorted(settings.trackers)) or "none"
            raise where.error(f"unknown tracker {tracker!r} (config.toml defines: {known})", *key, "tracker")
        kind = registry.kind(settings.trackers[tracker].kind)
    else:
        kind = registry.kind_for_scope(raw)
        if kind is None:
            raise where.error("cannot tell which tracker kind this scope is for: "
                              + "; ".join(k.scope_hint for k in registry.kinds().values()), *key)
    foreign = [k for k in raw if k not in kind.scope.model_fields]
    if foreign:
        raise where.error(f"tracker {tracker!r} is {kind.title}; {kind.scope_hint}, not "
                          + "/".join(f"`{k}`" for k in foreign), *key, *(foreign if len(foreign) == 1 else ()))
    try:
        scope = kind.scope.model_validate(raw)
    except ValidationError as exc:
        raise config_error_from(exc, where.path, where.locator, prefix=key) from None
    for message, sub in kind.problems(scope):
        raise where.error(message, *key, *((sub,) if sub else ()))
    return scope


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
