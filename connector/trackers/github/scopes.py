"""GitHub scopes: a repository, narrowed by at most one of a milestone, a label or a list of issues.
plansync evaluates them on the items' own fields (the adapter pulls each repository once). A parent scope
(`parent = "acme/web#12"`) is every sub-issue below that issue, in any repository of the owner: the
adapter reads the sub-issue tree, so its members come from the pull. A project scope (`project =
"acme/7"`) is the items of a Projects v2 project (GraphQL). Any scope may be narrowed by `type`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from connector.model import Scope, WorkItem
from connector.trackers.github.normalize import split_key

_GITHUB_ITEM = re.compile(r"^[\w.-]+/[\w.-]+#\d+$")
_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")
_PROJECT = re.compile(r"^[A-Za-z0-9][\w.-]*/\d+$")
HINT = ("a GitHub scope takes `repo` (with `milestone`, `label` or `items`), or `project` (with `field` and "
        "`value`), or `parent`")
_PARENT_NUMBER = re.compile(r"^#?(\d+)$")


class GithubScope(Scope):
    kind: ClassVar[str] = "github"

    repo: str | None = None
    milestone: str | None = None
    label: str | None = None
    items: tuple[str, ...] | None = None
    project: str | None = None  # a Projects v2 project, "owner/number" (organisation or user)
    field: str | None = None  # with `value`: only the project's items whose iteration / single-select
    value: str | None = None  # field `field` has the iteration or option `value`
    parent: str | None = None  # "owner/repo#12", or "#12" / "12" with `repo` naming the parent's repository

    @property
    def remote(self) -> bool:
        # membership comes from the pull: the project's items (GraphQL) or the parent's sub-issue tree
        return self.project is not None or self.parent is not None

    @property
    def parent_key(self) -> str | None:
        """The parent as "owner/repo#N" (None: not a parent scope, or not a valid reference)."""
        if self.parent is None:
            return None
        if _GITHUB_ITEM.match(self.parent):
            return self.parent
        number = _PARENT_NUMBER.match(self.parent)
        return f"{self.repo}#{number.group(1)}" if number and self.repo else None

    def id_parts(self) -> tuple[str, ...]:
        # the field order of the first release: stored cursors and memberships keep their ids
        parts = ("", self.repo or "", self.milestone or "", self.label or "", ",".join(self.items or ()))
        if self.project is not None:
            parts += ("project", self.project.casefold(), self.field or "", self.value or "")
        if self.parent is not None:
            parts += (f"parent={(self.parent_key or self.parent or '').casefold()}",)
        return parts

    def describe(self) -> str:
        if self.project is not None:
            narrowed = f" where {self.field} = {self.value!r}" if self.field else ""
            return f"{self.tracker}: project {self.project}{narrowed}"
        if self.parent is not None:
            return f"{self.tracker}: sub-issues of {self.parent_key or self.parent}" + (
                f" type {self.type!r}" if self.type else "")
        what = self.repo or ""
        if self.milestone:
            what += f" milestone {self.milestone!r}"
        if self.label:
            what += f" label {self.label!r}"
        if self.items:
            what += f" items {', '.join(self.items)}"
        if self.type:
            what += f" type {self.type!r}"
        return f"{self.tracker}: {what}"

    def matches(self, item: WorkItem) -> bool:
        # case-insensitive, as GitHub treats repository names, milestone titles and labels
        if self.remote:
            raise TypeError("a project or parent scope is evaluated by its pull: use the stored membership")
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
        return None if self.parent is not None else self.repo

    def index_hint(self) -> tuple[str, frozenset[str]] | None:
        if self.parent is not None:
            return None
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
    return bool({"repo", "milestone", "label"} & set(raw)) or bool(_GITHUB_ITEM.match(str(raw.get("parent", "")))) \
        or any(isinstance(i, str) and "#" in i for i in raw.get("items") or ())


def problems(scope: GithubScope) -> Iterator[tuple[str, str | None]]:
    """What is wrong with a GitHub scope, as (message, key within the scope)."""
    narrowing = [k for k in ("milestone", "label", "items") if getattr(scope, k) is not None]
    if scope.type is not None and not scope.type.strip():
        yield "`type` is empty; name an issue type such as \"Bug\"", "type"
        return
    if scope.project is not None or scope.field is not None or scope.value is not None:
        yield from _project_problems(scope, narrowing + (["parent"] if scope.parent is not None else []))
        return
    if scope.parent is not None:
        if narrowing:
            yield f"a parent scope takes `parent` (and `repo`, `type`), not {', '.join(narrowing)}", None
        elif scope.repo and not _REPO.match(scope.repo):
            yield f"{scope.repo!r} is not a repository like \"acme/checkout-web\"", "repo"
        elif scope.parent_key is None:
            yield (f"{scope.parent!r} is not an issue like \"acme/checkout-web#12\" (or \"#12\" with `repo`)",
                   "parent")
        elif scope.repo and scope.parent_key.split("#")[0].casefold() != scope.repo.casefold():
            yield f"`repo` is the parent's repository, but {scope.parent!r} is in another", "parent"
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
        if scope.tracker != tracker or getattr(scope, "parent", None):  # parent scopes: hierarchy.py
            continue
        named = [scope.repo] if getattr(scope, "repo", None) else []
        named += [split_key(key)[0] for key in getattr(scope, "items", None) or ()]
        for repo in named:
            repos.setdefault(repo.lower(), repo)
    return list(repos.values())
