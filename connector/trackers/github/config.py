"""The `[trackers.NAME]` table of a GitHub tracker (github.com or Enterprise Server)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from connector.settings import TrackerSettings


class ProjectFields(BaseModel):
    """`[trackers.NAME.project_fields]`: which Projects v2 fields feed an item read through a project scope."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    due: str | None = Field(None, min_length=1)  # a date field, or an iteration field (the iteration's last day)
    status: str | None = Field(None, min_length=1)  # a single-select field; options map in [project_status]


class GithubTrackerSettings(TrackerSettings):
    kind: Literal["github"]
    api_version: str = "2022-11-28"  # pinned X-GitHub-Api-Version
    write_interval: float = Field(1.0, ge=0)  # seconds between content-creating requests (GitHub guidance)
    writes_per_hour: int = Field(500, ge=0, le=500)  # content-creating requests an hour (secondary limit); 0 = uncapped
    writes_per_minute: int = Field(80, ge=0, le=80)  # GitHub's secondary-limit cap; 0 = uncapped (sandbox only)
    project_fields: ProjectFields = Field(default_factory=ProjectFields)

    def url_note(self) -> str | None:
        """Why `url` looks like no GitHub API root (validate warns; doctor explains the 404 it gets)."""
        parts = urlsplit(self.url)
        host, path = (parts.hostname or "").lower(), parts.path.rstrip("/")
        if host in ("127.0.0.1", "localhost", "::1"):
            return None  # a sandbox or a proxy on this machine: any path
        if host == "github.com":
            return "github.com is the web site; the API root is https://api.github.com"
        if host == "api.github.com":
            return None if not path else f"the API root is https://api.github.com, without {path!r}"
        if path != "/api/v3":
            return f"a GitHub Enterprise API root ends in /api/v3 (https://{host}/api/v3), not {path or '/'!r}"
        return None
