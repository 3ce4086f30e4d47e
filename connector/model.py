"""The normalized execution-plan model: what both trackers and the plan file are turned into.

Observed side (`WorkItem`, `Milestone`) are frozen slotted dataclasses: there are 100,000 of them.
Declared side (`Plan`, `PlanMilestone`, `Scope`, ...) are frozen pydantic models read from plan.toml.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SerializeAsAny, model_serializer

Uid = tuple[str, str]  # (tracker name, the vendor's immutable id): an item's identity everywhere


class Status(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def is_open(self) -> bool:
        return self not in (Status.DONE, Status.DROPPED)


class Presence(StrEnum):
    """Whether the tracker still shows an item; set by the census, never guessed from one miss."""

    PRESENT = "present"
    DELETED = "deleted"  # Jira 404 after a census miss; GitHub 410
    MOVED = "moved"  # Jira key changed (same id) out of every scope; GitHub transferred (301)
    HIDDEN = "hidden"  # no longer visible to our account (Jira cannot tell this from deleted)


@dataclass(frozen=True, slots=True)
class Blocker:
    """An item that blocks another ("is blocked by"): its vendor id and key, and whether it was open when
    the blocked item was read (reconcile prefers the blocker's own stored state where it has one)."""

    id: str
    key: str
    open: bool


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One issue (or pull request) as a tracker showed it, normalized.

    Identity is (`tracker`, `id`): the vendor's immutable id. `key` is the human key, which moves.
    """

    tracker: str  # the tracker's name in config.toml
    id: str  # Jira issue id / GitHub issue database id, as text
    key: str  # PROJ-123 / owner/repo#45
    container: str  # Jira project key / GitHub owner/repo
    url: str  # the page a human opens
    title: str
    type: str  # Jira issue type name; "issue" or "pull_request" on GitHub
    status: Status
    raw_status: str  # vendor status name (Jira) or state[/state_reason] (GitHub)
    created: datetime  # UTC, aware
    updated: datetime  # UTC, aware
    resolved: datetime | None = None
    assignees: tuple[str, ...] = ()  # Jira accountId/email/name; GitHub logins
    labels: tuple[str, ...] = ()
    milestones: tuple[str, ...] = ()  # tracker milestone names: Jira fixVersions, GitHub milestone title
    sprint: str | None = None
    epic: str | None = None  # Jira epic key (Epic Link or parent of type Epic)
    parent: str | None = None  # parent key (Jira parent; GitHub parent issue, possibly in another repo)
    due: date | None = None
    estimate: float | None = None  # story points where the tracker has them
    links: tuple[str, ...] = ()  # cross-tracker references: "CHK-12", "acme/web#7"
    is_pull_request: bool = False
    presence: Presence = Presence.PRESENT
    blocked_by: tuple[Blocker, ...] = ()  # Jira "is blocked by" links; GitHub issue dependencies

    @property
    def uid(self) -> Uid:
        return (self.tracker, self.id)

    @property
    def is_open(self) -> bool:
        return self.status.is_open and self.presence is Presence.PRESENT

    def owned_labels(self, prefix: str) -> frozenset[str]:
        return frozenset(label for label in self.labels if label.startswith(prefix))

    def with_labels(self, labels: tuple[str, ...]) -> WorkItem:
        return replace(self, labels=labels)


@dataclass(frozen=True, slots=True)
class Milestone:
    """A tracker-side milestone: Jira fixVersion / sprint / epic, GitHub milestone."""

    tracker: str
    id: str
    kind: Literal["version", "sprint", "epic", "milestone"]
    name: str
    container: str  # project key / owner/repo
    state: str  # Jira: released|unreleased|archived, sprint: active|future|closed; GitHub: open|closed
    due: date | None = None  # Jira releaseDate / sprint end; GitHub due_on in the plan's timezone
    start: date | None = None
    url: str = ""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the last good incremental pull of one scope stopped."""

    tracker: str
    scope_id: str
    updated: datetime | None = None  # the newest `updated` stored (UTC)
    etag: str | None = None  # GitHub list ETag for conditional requests
    extra: dict = field(default_factory=dict, compare=False, hash=False)


# --- the declared plan (plan.toml) -------------------------------------------------------------

_FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Scope(BaseModel):
    """One tracker query naming items. Its keys and their meaning belong to the tracker's kind: each kind
    package (connector.trackers.<kind>) subclasses this with its own keys, validation and `matches` rule.

    The core asks only this interface: either the tracker evaluates the scope (`remote`: a JQL, whose
    members the pull reports and the store keeps) or plansync does, with `matches(item)`.
    """

    model_config = _FROZEN

    tracker: str
    type: str | None = None  # only items of this issue type (Jira issue type, GitHub issue type), any scope

    kind: ClassVar[str] = ""  # the registry name of the kind this scope belongs to

    @model_serializer(mode="wrap")
    def _with_kind(self, handler):
        """Dumped with its kind, so a plan read back (snapshots) types each scope without guessing."""
        data = handler(self)
        return {"kind": self.kind, **data} if isinstance(data, dict) and self.kind else data

    @property
    def remote(self) -> bool:
        """True when only the tracker can say which items belong (membership comes from the pull)."""
        return False

    def id_parts(self) -> tuple[str, ...]:
        raise NotImplementedError

    @property
    def id(self) -> str:
        """Stable identity for cursors and stored membership: survives reformatting of the TOML."""
        parts = (*self.id_parts(), f"type={self.type.casefold()}") if self.type else self.id_parts()
        digest = hashlib.sha1("\x1f".join((self.tracker, *parts)).encode()).hexdigest()[:12]
        return f"{self.tracker}:{digest}"

    def describe(self) -> str:
        return self.tracker

    def admits(self, item: WorkItem) -> bool:
        """The `type` filter, applied to every scope's hits (remote ones included)."""
        return self.type is None or item.type.casefold() == self.type.casefold()

    def matches(self, item: WorkItem) -> bool:
        """Whether `item` (in any state, past or present) belongs; never called for remote scopes."""
        raise NotImplementedError

    def container(self) -> str | None:
        """The one container (project, repository) every matching item lives in, if the scope names one:
        lets reconcile look at that container's items only."""
        return None

    def index_hint(self) -> tuple[str, frozenset[str]] | None:
        """(`key`, `milestones` or `labels`, case-folded names) when matching is "the item has one of these":
        reconcile then answers from one index per container instead of testing every item."""
        return None

    def named_milestones(self) -> tuple[tuple[str, str, frozenset[str]], ...]:
        """Tracker milestones this scope selects by name, as (Milestone.kind, name, containers; empty =
        any): the date-drift finding compares their dates with the plan's."""
        return ()


class Person(BaseModel):
    """A person of the plan: a display `name` and one identity per tracker kind (`jira = "dana@..."`,
    `github = "dana-k"`); which identity keys exist is the registry's (checked by the plan loader)."""

    model_config = ConfigDict(frozen=True, extra="allow", str_strip_whitespace=True)

    name: str | None = None

    @property
    def identities(self) -> dict[str, str]:
        return dict(self.__pydantic_extra__ or {})

    def identity(self, kind: str) -> str | None:
        value = (self.__pydantic_extra__ or {}).get(kind)
        return value if isinstance(value, str) else None


def _typed_scopes(value: object) -> object:
    """Scopes read back from JSON (plan snapshots) or built in code from dicts get their kind's model."""
    if isinstance(value, (list, tuple)):
        from connector.trackers import registry

        return tuple(registry.scope_from(v) if isinstance(v, dict) else v for v in value)
    return value


Scopes = Annotated[tuple[SerializeAsAny[Scope], ...], BeforeValidator(_typed_scopes)]


class PlanMilestone(BaseModel):
    model_config = _FROZEN

    key: str
    title: str
    due: date
    owner: str | None = None
    depends_on: tuple[str, ...] = ()
    scope: Scopes = Field(default=())
    description: str | None = None


class Risk(BaseModel):
    model_config = _FROZEN

    title: str
    milestone: str | None = None
    likelihood: Literal["low", "medium", "high"] = "medium"
    impact: Literal["low", "medium", "high"] = "medium"
    mitigation: str | None = None
    owner: str | None = None


class PlanHeader(BaseModel):
    model_config = _FROZEN

    name: str
    timezone: str = "UTC"
    start: date | None = None
    objective: str | None = None


class Plan(BaseModel):
    """The declared execution plan, validated (see plan_file.load_plan)."""

    model_config = _FROZEN

    plan: PlanHeader
    people: dict[str, Person] = Field(default_factory=dict)
    milestones: tuple[PlanMilestone, ...] = ()
    risks: tuple[Risk, ...] = ()
    watch: Scopes = ()

    def milestone(self, key: str) -> PlanMilestone:
        return next(m for m in self.milestones if m.key == key)

    def all_scopes(self) -> list[Scope]:
        """Every distinct scope, milestones first, then watch scopes; each once."""
        seen: dict[str, Scope] = {}
        for m in self.milestones:
            for s in m.scope:
                seen.setdefault(s.id, s)
        for s in self.watch:
            seen.setdefault(s.id, s)
        return list(seen.values())

    def scopes_for(self, tracker: str) -> list[Scope]:
        return [s for s in self.all_scopes() if s.tracker == tracker]

    def person_for(self, tracker_kind: str, identity: str) -> str | None:
        """The plan's person key for a tracker identity (email, accountId, login), if declared."""
        ident = identity.lower()
        for key, person in self.people.items():
            value = person.identity(tracker_kind)
            if value and value.lower() == ident:
                return key
        return None
