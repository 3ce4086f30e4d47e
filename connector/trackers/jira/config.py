"""The `[trackers.NAME]` table of a Jira tracker (Cloud or Server/Data Center)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from connector.settings import TrackerSettings


class JiraTrackerSettings(TrackerSettings):
    kind: Literal["jira"]
    deployment: Literal["cloud", "server"] | None = None  # None = detect from serverInfo
    auth: Literal["basic", "bearer"] = "basic"
    email: str | None = None

    @model_validator(mode="after")
    def _email_for_basic(self) -> JiraTrackerSettings:
        if self.auth == "basic" and not self.email:
            raise ValueError("`email` is required when auth = \"basic\" (Jira Cloud: email + API token)")
        return self
