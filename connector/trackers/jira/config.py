"""The `[trackers.NAME]` table of a Jira tracker (Cloud or Server/Data Center)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from connector.settings import TrackerSettings


class JiraTrackerSettings(TrackerSettings):
    kind: Literal["jira"]
    deployment: Literal["cloud", "server"] | None = None  # None = detect from serverInfo
    auth: Literal["basic", "bearer"] = "basic"
    email: str | None = None
    notify: bool = False  # true: label edits email watchers as Jira does by default (notifyUsers / sendBulkNotification)
    bulk: bool = True  # Jira Cloud: same-label-set changes as bulk edits (POST /bulk/issues/fields)
    concurrency: int = Field(4, ge=1, le=16)  # Jira Cloud: scopes whose token chains are walked at once
    bulk_poll_limit: float = Field(300.0, gt=0, le=3600)  # seconds to wait for one bulk task before leaving it

    @model_validator(mode="after")
    def _email_for_basic(self) -> JiraTrackerSettings:
        if self.auth == "basic" and not self.email:
            raise ValueError("`email` is required when auth = \"basic\" (Jira Cloud: email + API token)")
        return self
