"""GitHub scopes: a repository, narrowed by at most one of a milestone, a label or a list of issues.
plansync evaluates them on the items' own fields (the adapter pulls each repository once)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from connector.model import Scope, WorkItem
from connector.trackers.github.normalize import split_key

_GITHUB_ITEM = re.compile(r"^[\w.-]+/[\w.-]+#\d+$")
_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")
_PROJECT = re.compile(r"^[A-Za-z0-9][\w.-]*/\d+$")
HINT = "a GitHub scope takes `repo` (with `milestone`, `label` or `items`), or `project` (with `field` and `value`)"


class GithubScope(Scope):
    kind: ClassVar[str] = "github"

    repo: str | None = None
    milestone: str | None = None
    label: str | None = None
    items: tuple[str, ...] | None = None
    project: str | None = None  # a Projects v2 project, "owner/number" (organisation or user)
    field: str | None = None  # with `value`: only the project's items whose iteration / single-select
    value: str | None = None  # field `field` has the iteration or option `value`

    @property
    def remote(self) -> bool:
        return self.project is not None  # membership comes from the project's items (GraphQL)

    def id_parts(self) -> tuple[str, ...]:
        # the field order of the first release: stored cursors and memberships keep their ids
        parts = ("", self.repo or "", self.milestone or "", self.label or "", ",".join(self.items or ()))
        if self.project is not None:
            parts += ("project", self.project.casefold(), self.field or "", self.value or "")
        return parts

    def describe(self) -> str:
        if self.project is not None:
            narrowed = f" where {self.field} = {self.value!r}" if self.field else ""
            return f"{self.tracker}: project {self.project}{narrowed}"
        what = self.repo or ""
        if self.milestone:
            what += f" milestone {self.milestone!r}"
        if self.label:
            what += f" label {self.label!r}"
        if self.items:
            what += f" items {', '.join(self.items)}"
        return f"{self.tracker}: {what}"

    def matches(self, item: WorkItem) -> bool:
        # case-insensitive, as GitHub treats repository names, milestone titles and labels
        if self.project is not None:
            raise TypeError("a project scope is evaluated by GitHub: use the stored membership")
        if item.tracker != self.tracker:
            return False
        if self.repo and self.repo.casefold() != item.container.casefold():
            return False
        if self.items:
            return item.key.casefold() in {k.casefold() for k in self.items}
        if self.milestone is not None:
            return self.milestone.casefold() in {m.casefold() for m in item.milestones}
        if self.label is not None:
            return self.label.casefold() in {lb.casefold() for lb in item.labels}
        return True

    def container(self) -> str | None:
        return self.repo

    def index_hint(self) -> tuple[str, frozenset[str]] | None:
        if self.items:
            return ("key", frozenset(k.casefold() for k in self.items))
        if self.milestone is not None:
            return ("milestones", frozenset({self.milestone.casefold()}))
        if self.label is not None:
            return ("labels", frozenset({self.label.casefold()}))
        return None

    def named_milestones(self) -> tuple[tuple[str, str, frozenset[str]], ...]:
        if self.repo and self.milestone:
            return (("milestone", self.milestone, frozenset({self.repo.casefold()})),)
        return ()


def claims(raw: dict[str, Any]) -> bool:
    project = raw.get("project")
    if (isinstance(project, str) and _PROJECT.match(project)) or {"field", "value"} & set(raw):
        return True  # a Projects v2 reference ("acme/7"), not a GitLab project path
    return bool({"repo", "milestone", "label"} & set(raw)) or any(
        isinstance(i, str) and "#" in i for i in raw.get("items") or ())


def problems(scope: GithubScope) -> Iterator[tuple[str, str | None]]:
    """What is wrong with a GitHub scope, as (message, key within the scope)."""
    narrowing = [k for k in ("milestone", "label", "items") if getattr(scope, k) is not None]
    if scope.project is not None or scope.field is not None or scope.value is not None:
        yield from _project_problems(scope, narrowing)
        return
    if not scope.repo:
        yield "a GitHub scope needs `repo = \"owner/name\"`", None
        return
    if not _REPO.match(scope.repo):
        yield f"{scope.repo!r} is not a repository like \"acme/checkout-web\"", "repo"
        return
    if len(narrowing) > 1:
        yield f"give at most one of milestone/label/items in a scope (got {', '.join(narrowing)})", None
        return
    for item in scope.items or ():
        if not _GITHUB_ITEM.match(item):
            yield f"{item!r} is not an issue reference like \"acme/checkout-web#12\"", "items"
            return


def _project_problems(scope: GithubScope, narrowing: list[str]) -> Iterator[tuple[str, str | None]]:
    if scope.project is None:
        yield f"`{'field' if scope.field is not None else 'value'}` narrows a project: give `project = \"owner/7\"`", None
    elif not _PROJECT.match(scope.project):
        yield (f"{scope.project!r} is not a project like \"acme/7\" (an organisation or user and the project's "
               "number)"), "project"
    elif scope.repo is not None or narrowing:
        other = ", ".join(k for k in ("repo", *narrowing) if getattr(scope, k) is not None)
        yield f"a project scope takes only `project`, `field` and `value` (got {other})", None
    elif (scope.field is None) != (scope.value is None):
        missing = "value" if scope.value is None else "field"
        yield (f"`field` and `value` go together: give `{missing}` too (an iteration title or a single-select "
               "option)"), missing
    elif scope.field is not None and not (scope.field.strip() and scope.value.strip()):
        yield "`field` and `value` must not be empty", "field" if not scope.field.strip() else "value"


def project_ref(project: str) -> tuple[str, int]:
    """`acme/7` -> ("acme", 7)."""
    owner, _, number = project.partition("/")
    return owner, int(number)


def repos_for_scopes(scopes, tracker: str) -> list[str]:
    """The distinct repos (first-seen order) one tracker's scopes need: `repo`, and repos of `items` keys."""
    repos: dict[str, str] = {}
    for scope in scopes:
        if scope.tracker != tracker:
            continue
        named = [scope.repo] if getattr(scope, "repo", None) else []
        named += [split_key(key)[0] for key in getattr(scope, "items", None) or ()]
        for repo in named:
            repos.setdefault(repo.lower(), repo)
    return list(repos.values())
