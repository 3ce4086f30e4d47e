"""Status mappings: data in mappings/*.toml, pure functions from a vendor's status to `Status`.

An unmapped vendor status falls back to its category (Jira) or state (GitHub); the caller collects
the `fallback` flags and reports each unmapped name once per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connector.errors import ConfigError
from connector.model import Status
from connector.tomlfile import config_error_from, read_toml

# shipped with the package; the repository's top-level mappings/ is a link to this folder
SHIPPED = Path(__file__).resolve().parent / "mappings"


class Mapped(NamedTuple):
    status: Status
    fallback: bool  # True when no named rule matched and the category/state decided


class _JiraFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status_category: dict[str, Status] = Field(default_factory=dict)
    status: dict[str, Status] = Field(default_factory=dict)
    resolution: dict[str, Status] = Field(default_factory=dict)


class _GithubFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: dict[str, Status] = Field(default_factory=dict)
    state_reason: dict[str, Status] = Field(default_factory=dict)
    labels: dict[str, Status] = Field(default_factory=dict)


@dataclass(frozen=True)
class JiraMapping:
    categories: dict[str, Status]
    statuses: dict[str, Status]  # lower-cased names
    resolutions: dict[str, Status]
    source: str = ""

    def map(self, status_name: str, category_key: str | None, resolution: str | None = None) -> Mapped:
        if resolution and (hit := self.resolutions.get(resolution.lower())) is not None:
            return Mapped(hit, False)
        if (hit := self.statuses.get((status_name or "").lower())) is not None:
            return Mapped(hit, False)
        category = self.categories.get((category_key or "").lower())
        if category is not None:
            return Mapped(category, True)
        return Mapped(Status.TODO, True)  # Jira's "undefined" category: treat as not started


@dataclass(frozen=True)
class GithubMapping:
    states: dict[str, Status]
    state_reasons: dict[str, Status]
    labels: tuple[tuple[str, Status], ...]  # ordered, lower-cased
    source: str = ""

    def map(self, state: str, state_reason: str | None, labels: tuple[str, ...] = ()) -> Mapped:
        state = (state or "").lower()
        if state == "closed":
            if state_reason and (hit := self.state_reasons.get(state_reason.lower())) is not None:
                return Mapped(hit, False)
            return Mapped(self.states.get("closed", Status.DONE), bool(state_reason))
        lowered = {label.lower() for label in labels}
        for name, status in self.labels:
            if name in lowered:
                return Mapped(status, False)
        if state in self.states:
            return Mapped(self.states[state], False)
        return Mapped(Status.TODO, True)


@dataclass
class UnmappedReport:
    """Collects statuses that fell back to their category, to log each once per run."""

    seen: set[tuple[str, str]] = field(default_factory=set)

    def add(self, tracker: str, raw: str) -> bool:
        key = (tracker, raw)
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def _load(path: Path, model: type[BaseModel]) -> BaseModel:
    data, locator = read_toml(path, "mapping file")
    try:
        return model(**data)
    except ValidationError as exc:
        raise config_error_from(exc, path, locator) from None


def load_jira_mapping(path: Path | None = None) -> JiraMapping:
    path = path or SHIPPED / "jira.toml"
    parsed = _load(path, _JiraFile)
    return JiraMapping(
        categories={k.lower(): v for k, v in parsed.status_category.items()},
        statuses={k.lower(): v for k, v in parsed.status.items()},
        resolutions={k.lower(): v for k, v in parsed.resolution.items()},
        source=str(path),
    )


def load_github_mapping(path: Path | None = None) -> GithubMapping:
    path = path or SHIPPED / "github.toml"
    parsed = _load(path, _GithubFile)
    if "open" not in {k.lower() for k in parsed.state} or "closed" not in {k.lower() for k in parsed.state}:
        raise ConfigError("the [state] table must map both `open` and `closed`", file=str(path), key="state")
    return GithubMapping(
        states={k.lower(): v for k, v in parsed.state.items()},
        state_reasons={k.lower(): v for k, v in parsed.state_reason.items()},
        labels=tuple((k.lower(), v) for k, v in parsed.labels.items()),
        source=str(path),
    )


def load_mapping(kind: str, path: Path | None = None) -> JiraMapping | GithubMapping:
    """The mapping for a tracker kind: the team's file where config names one, else the shipped one."""
    if kind == "jira":
        return load_jira_mapping(path)
    if kind == "github":
        return load_github_mapping(path)
    raise ConfigError(f"no mapping for tracker kind {kind!r}")
