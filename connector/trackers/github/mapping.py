"""GitHub's status mapping: state, state_reason and label overrides (mappings/github.toml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from connector.errors import ConfigError
from connector.mapping import SHIPPED, Mapped, read_mapping_file
from connector.model import Status


class _GithubFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # an open item with an open blocker is `blocked`, whatever its own status says (false: its status rules)
    open_blocker_blocks: bool = True
    state: dict[str, Status] = Field(default_factory=dict)
    state_reason: dict[str, Status] = Field(default_factory=dict)
    labels: dict[str, Status] = Field(default_factory=dict)
    project_status: dict[str, Status] = Field(default_factory=dict)  # Projects v2 single-select option -> status


@dataclass(frozen=True)
class GithubMapping:
    states: dict[str, Status]
    state_reasons: dict[str, Status]
    labels: tuple[tuple[str, Status], ...]  # ordered, lower-cased
    source: str = ""
    project_status: dict[str, Status] = field(default_factory=dict)  # lower-cased option names
    open_blocker_blocks: bool = True

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


def load_github_mapping(path: Path | None = None) -> GithubMapping:
    path = path or SHIPPED / "github.toml"
    parsed = read_mapping_file(path, _GithubFile)
    if "open" not in {k.lower() for k in parsed.state} or "closed" not in {k.lower() for k in parsed.state}:
        raise ConfigError("the [state] table must map both `open` and `closed`", file=str(path), key="state")
    return GithubMapping(
        states={k.lower(): v for k, v in parsed.state.items()},
        state_reasons={k.lower(): v for k, v in parsed.state_reason.items()},
        labels=tuple((k.lower(), v) for k, v in parsed.labels.items()),
        source=str(path),
        project_status={k.casefold(): v for k, v in parsed.project_status.items()},
        open_blocker_blocks=parsed.open_blocker_blocks,
    )
