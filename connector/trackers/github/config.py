"""The `[trackers.NAME]` table of a GitHub tracker (github.com or Enterprise Server)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from connector.settings import TrackerSettings


class GithubTrackerSettings(TrackerSettings):
    kind: Literal["github"]
    api_version: str = "2022-11-28"  # pinned X-GitHub-Api-Version
    write_interval: float = Field(1.0, ge=0)  # seconds between content-creating requests (GitHub guidance)
    writes_per_hour: int = Field(500, ge=0, le=500)  # content-creating requests an hour (secondary limit); 0 = uncapped
    writes_per_minute: int = Field(80, ge=0, le=80)  # GitHub's secondary-limit cap; 0 = uncapped (sandbox only)
