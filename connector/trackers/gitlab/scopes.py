"""GitLab scopes: a project (full path, nested groups allowed) narrowed by at most one of a milestone,
a label, an iteration or a list of issues; or a group with a milestone or a label (group milestones).
plansync evaluates them on the items' own fields (the adapter pulls each project or group once)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import model_serializer, model_validator

from connector.model import Scope, WorkItem

_PATH = re.compile(r"^[\w.-]+(/[\w.-]+)+$")  # group/project, group/subgroup/project, ...
_GROUP = re.compile(r"^[\w.-]+(/[\w.-]+)*$")
_ITEM = re.compile(r"^[\w.-]+(/[\w.-]+)+#\d+$")
# Plan snapshots store scopes as JSON without their kind, and the registry tells kinds apart by keys
# alone: a flat `milestone` / `label` / `items` would be claimed by the GitHub kind as well. So a GitLab
# scope is written as {tracker, project | group, "gitlab": {its narrowing}} and read back from either form.
NESTED = "gitlab"
HINT = "a GitLab scope takes `project` (with `milestone`, `label`, `iteration` or `items`) or `group`"


class GitlabScope(Scope):
    kind: ClassVar[str] = "gitlab"

    project: str | None = None
    group: str | None = None
    milestone: str | None = None
    label: str | None = None
    iteration: str | None = None
    items: tuple[str, ...] | None = None

    @model_validator(mode="before")
    @classmethod
    def _unnest(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get(NESTED), dict):
            data = {**{k: v for k, v in data.items() if k != NESTED}, **data[NESTED]}
        return data

    @model_serializer(mode="wrap")
    def _nest(self, handler) -> dict:
        flat = handler(self)
        narrowing = {k: flat.pop(k) for k in ("milestone", "label", "iteration", "items") if k in flat}
        flat = {k: v for k, v in flat.items() if v is not None}
        flat[NESTED] = {k: v for k, v in narrowing.items() if v is not None}
        return flat

    def id_parts(self) -> tuple[str, ...]:
        return (self.project or "", self.group or "", self.milestone or "", self.label or "",
                self.iteration or "", ",".join(self.items or ()))

    def describe(self) -> str:
        what = f"project {self.project}" if self.project else f"group {self.group}"
        for key in ("milestone", "label", "iteration"):
            if getattr(self, key) is not None:
                what += f" {key} {getattr(self, key)!r}"
        if self.items:
            what += f" items {', '.join(self.items)}"
        return f"{self.tracker}: {what}"

    def matches(self, item: WorkItem) -> bool:
        # GitLab paths and label names compare case-insensitively in its search; milestone titles too
        if item.tracker != self.tracker:
            return False
        container = item.container.casefold()
        if self.project and self.project.casefold() != container:
            return False
        if self.group and not container.startswith(self.group.casefold().rstrip("/") + "/"):
            return False
        if self.items:
            return item.key.casefold() in {k.casefold() for k in self.items}
        if self.milestone is not None:
            return self.milestone.casefold() in {m.casefold() for m in item.milestones}
        if self.label is not None:
            return self.label.casefold() in {lb.casefold() for lb in item.labels}
        if self.iteration is not None:
            return (item.sprint or "").casefold() == self.iteration.casefold()
        return True

    def container(self) -> str | None:
        return self.project

    def index_hint(self) -> tuple[str, frozenset[str]] | None:
        if self.items:
            return ("key", frozenset(k.casefold() for k in self.items))
        if self.milestone is not None:
            return ("milestones", frozenset({self.milestone.casefold()}))
        if self.label is not None:
            return ("labels", frozenset({self.label.casefold()}))
        return None

    def named_milestones(self) -> tuple[tuple[str, str, frozenset[str]], ...]:
        where = self.project or self.group
        if where and self.milestone:
            return (("milestone", self.milestone, frozenset({where.casefold()})),)
        return ()


def claims(raw: dict[str, Any]) -> bool:
    return bool({"project", "group", "iteration", NESTED} & set(raw))


def problems(scope: GitlabScope) -> Iterator[tuple[str, str | None]]:
    """What is wrong with a GitLab scope, as (message, key within the scope)."""
    if bool(scope.project) == bool(scope.group):
        yield "a GitLab scope needs exactly one of `project = \"group/project\"` or `group = \"group\"`", None
        return
    if scope.project and not _PATH.match(scope.project):
        yield f"{scope.project!r} is not a project path like \"acme/platform/checkout\"", "project"
        return
    if scope.group and not _GROUP.match(scope.group):
        yield f"{scope.group!r} is not a group path like \"acme/platform\"", "group"
        return
    narrowing = [k for k in ("milestone", "label", "iteration", "items") if getattr(scope, k) is not None]
    if len(narrowing) > 1:
        yield f"give at most one of milestone/label/iteration/items in a scope (got {', '.join(narrowing)})", None
        return
    if scope.group and narrowing and narrowing[0] not in ("milestone", "label"):
        yield f"a group scope takes `milestone` or `label`, not `{narrowing[0]}`", narrowing[0]
        return
    for item in scope.items or ():
        if not _ITEM.match(item):
            yield f"{item!r} is not an issue reference like \"acme/platform/checkout#12\"", "items"
            return
        if scope.project and item.rpartition("#")[0].casefold() != scope.project.casefold():
            yield f"{item!r} is not in project {scope.project!r}", "items"
            return
