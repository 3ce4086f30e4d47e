"""The `[trackers.NAME]` table of a Jira tracker (Cloud or Server/Data Center)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from connector.settings import TrackerSettings

GATEWAY = "https://api.atlassian.com/ex/jira"  # the Atlassian API gateway: GATEWAY/{cloudId}/rest/api/3/...


class JiraTrackerSettings(TrackerSettings):
    kind: Literal["jira"]
    deployment: Literal["cloud", "server"] | None = None  # None = detect from serverInfo
    auth: Literal["basic", "bearer"] = "basic"
    email: str | None = None
    notify: bool = False  # true: label edits email watchers as Jira does by default (notifyUsers / sendBulkNotification)
    bulk: bool = True  # Jira Cloud: same-label-set changes as bulk edits (POST /bulk/issues/fields)
    concurrency: int = Field(4, ge=1, le=16)  # Jira Cloud: scopes whose token chains are walked at once
    bulk_poll_limit: float = Field(300.0, gt=0, le=3600)  # seconds to wait for one bulk task before leaving it
    # Jira Cloud service accounts: scoped API tokens work only through the Atlassian API gateway, so API
    # calls go to GATEWAY/{cloud_id} (or `api_url`, which wins: a proxy, the sandbox); `url` stays the
    # site that browse links in reports and plan output point to
    cloud_id: str | None = None
    api_url: str | None = None

    @field_validator("cloud_id")
    @classmethod
    def _cloud_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}", value.strip()):
            raise ValueError(f"expected the site's cloud id (a UUID such as 1324a887-45db-1bf4-1e99-ef0ff456d421, "
                             f"printed by `plansync doctor`), got {value!r}")
        return value.strip() if value else value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/") if value else value

    @property
    def api_base(self) -> str:
        """Where API calls go: `api_url`, else the gateway for `cloud_id`, else the site `url`."""
        if self.api_url:
            return self.api_url
        return f"{GATEWAY}/{self.cloud_id}" if self.cloud_id else self.url

    @property
    def via_gateway(self) -> bool:
        return bool(self.cloud_id or self.api_url)

    @model_validator(mode="after")
    def _email_for_basic(self) -> JiraTrackerSettings:
        if self.auth == "basic" and not self.email:
            raise ValueError("`email` is required when auth = \"basic\" (Jira Cloud: email + API token)")
        if self.cloud_id and self.deployment == "server":
            raise ValueError("`cloud_id` is for Jira Cloud (the Atlassian API gateway); remove it or the "
                             "deployment = \"server\"")
        return self


def gateway_hint(tracker: JiraTrackerSettings) -> str:
    """What a 401 from the site may mean on Jira Cloud: a scoped token, which only the gateway takes."""
    if tracker.via_gateway:
        return (f"; through the API gateway ({tracker.api_base}) a scoped token also needs the scopes "
                f"read:jira-work, write:jira-work and read:jira-user, and cloud_id must be this site's")
    if tracker.deployment == "server" or tracker.auth != "basic":
        return ""
    return (f"; a service account's scoped API token is refused by the site and only works through the "
            f"Atlassian API gateway: set cloud_id in [trackers.{tracker.name}] (`plansync doctor` prints it)")
