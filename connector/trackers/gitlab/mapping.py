"""GitLab's status mapping: state, how a closed issue was closed, label overrides (mappings/gitlab.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from connector.errors import ConfigError
from connector.mapping import SHIPPED, Mapped, read_mapping_file
from connector.model import Status


class _GitlabFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: dict[str, Status] = Field(default_factory=dict)
    closed_as: dict[str, Status] = Field(default_factory=dict)
    closed_labels: dict[str, Status] = Field(default_factory=dict)
    labels: dict[str, Status] = Field(default_factory=dict)


@dataclass(frozen=True)
class GitlabMapping:
    states: dict[str, Status]
    closed_as: dict[str, Status]
    closed_labels: tuple[tuple[str, Status], ...]  # ordered, lower-cased
    labels: tuple[tuple[str, Status], ...]
    source: str = ""

    def map(self, state: str, closed_as: str | None, labels: tuple[str, ...] = ()) -> Mapped:
        """`closed_as`: "duplicate" for an issue closed as a duplicate, else None."""
        state = (state or "").lower()
        lowered = {label.lower() for label in labels}
        if state == "closed":
            if closed_as and (hit := self.closed_as.get(closed_as.lower())) is not None:
                return Mapped(hit, False)
            for name, status in self.closed_labels:
                if name in lowered:
                    return Mapped(status, False)
            return Mapped(self.states.get("closed", Status.DONE), bool(closed_as))
        for name, status in self.labels:
            if name in lowered:
                return Mapped(status, False)
        if state in self.states:
            return Mapped(self.states[state], False)
        return Mapped(Status.TODO, True)


def load_gitlab_mapping(path: Path | None = None) -> GitlabMapping:
    path = path or SHIPPED / "gitlab.toml"
    parsed = read_mapping_file(path, _GitlabFile)
    named = {k.lower() for k in parsed.state}
    if "opened" not in named or "closed" not in named:
        raise ConfigError("the [state] table must map both `opened` and `closed`", file=str(path), key="state")
    return GitlabMapping(
        states={k.lower(): v for k, v in parsed.state.items()},
        closed_as={k.lower(): v for k, v in parsed.closed_as.items()},
        closed_labels=tuple((k.lower(), v) for k, v in parsed.closed_labels.items()),
        labels=tuple((k.lower(), v) for k, v in parsed.labels.items()),
        source=str(path),
    )
