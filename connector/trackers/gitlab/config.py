"""The `[trackers.NAME]` table of a GitLab tracker (GitLab.com or self-managed)."""

from __future__ import annotations

from typing import Literal

from connector.settings import TrackerSettings


class GitlabTrackerSettings(TrackerSettings):
    """`url` is the instance root (`https://gitlab.com`); the API is under `/api/v4`. `token_env` names a
    personal, group or project access token (read scope `read_api`, writes need `api`)."""

    kind: Literal["gitlab"]
    url: str = "https://gitlab.com"
