"""Jira's status mapping: status category plus named status and resolution overrides (mappings/jira.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connector.mapping import SHIPPED, Mapped, read_mapping_file
from connector.model import Status

CATEGORIES = ("new", "indeterminate", "done")  # Jira's statusCategory keys ("undefined" is optional)


class _JiraFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # an open item with an open blocker is `blocked`, whatever its own status says (false: its status rules)
    open_blocker_blocks: bool = True
    # required: without it every status the file does not name falls to `todo`, done work included
    status_category: dict[str, Status]
    status: dict[str, Status] = Field(default_factory=dict)
    resolution: dict[str, Status] = Field(default_factory=dict)

    @field_validator("status_category")
    @classmethod
    def _every_category(cls, value: dict[str, Status]) -> dict[str, Status]:
        keys = {k.lower() for k in value}
        unknown = sorted(keys - {*CATEGORIES, "undefined"})
        if unknown:
            raise ValueError(f"unknown status category {unknown[0]!r}; Jira's categories are "
                             f"{', '.join(CATEGORIES)} (and undefined)")
        missing = [c for c in CATEGORIES if c not in keys]
        if missing:
            raise ValueError(f"every status category needs a status; missing: {', '.join(missing)}")
        return value


@dataclass(frozen=True)
class JiraMapping:
    categories: dict[str, Status]
    statuses: dict[str, Status]  # lower-cased names
    resolutions: dict[str, Status]
    source: str = ""
    open_blocker_blocks: bool = True

    def map(self, status_name: str, category_key: str | None, resolution: str | None = None) -> Mapped:
        if resolution and (hit := self.resolutions.get(resolution.lower())) is not None:
            return Mapped(hit, False)
        if (hit := self.statuses.get((status_name or "").lower())) is not None:
            return Mapped(hit, False)
        category = self.categories.get((category_key or "").lower())
        if category is not None:
            return Mapped(category, True)
        return Mapped(Status.TODO, True)  # Jira's "undefined" category: treat as not started


def load_jira_mapping(path: Path | None = None) -> JiraMapping:
    path = path or SHIPPED / "jira.toml"
    parsed = read_mapping_file(path, _JiraFile)
    return JiraMapping(
        categories={k.lower(): v for k, v in parsed.status_category.items()},
        statuses={k.lower(): v for k, v in parsed.status.items()},
        resolutions={k.lower(): v for k, v in parsed.resolution.items()},
        source=str(path),
        open_blocker_blocks=parsed.open_blocker_blocks,
    )
