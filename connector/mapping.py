"""Status mappings: data in mappings/*.toml, one mapping model per tracker kind (in its package).

An unmapped vendor status falls back to its category or state; the caller collects the `fallback`
flags and reports each unmapped name once per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel, ValidationError

from connector.model import Status
from connector.tomlfile import config_error_from, read_toml

# shipped with the package; the repository's top-level mappings/ is a link to this folder
SHIPPED = Path(__file__).resolve().parent / "mappings"


class Mapped(NamedTuple):
    status: Status
    fallback: bool  # True when no named rule matched and the category/state decided


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


def read_mapping_file(path: Path, model: type[BaseModel]) -> BaseModel:
    """One mapping file validated by its kind's model; ConfigError naming file, line and key."""
    data, locator = read_toml(path, "mapping file")
    try:
        return model(**data)
    except ValidationError as exc:
        raise config_error_from(exc, path, locator) from None


def load_mapping(kind: str, path: Path | None = None):
    """The mapping for a tracker kind: the team's file where config names one, else the shipped one."""
    from connector.trackers import registry

    return registry.kind(kind).load_mapping(path)
