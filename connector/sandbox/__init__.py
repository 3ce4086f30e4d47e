"""Jira-, GitHub- and GitLab-compatible trackers on loopback for demos, end-to-end tests and benchmarks.

Credentials (fixed): Jira basic auth `plansync-bot@example.com` / `sandbox-jira-token` (both flavours);
Jira Server bearer PAT `sandbox-jira-pat`; GitHub `Authorization: token sandbox-github-token` (or Bearer);
GitLab `PRIVATE-TOKEN: sandbox-gitlab-token` (or Bearer).
Sandbox(validate=True) checks every exchange against the vendors' OpenAPI descriptions (see .validation).
"""

from .core import Sandbox
from .faults import FaultRule, RequestRecord
from .gitlab_api import TOKEN as GITLAB_TOKEN
from .server import GITHUB_TOKEN, JIRA_EMAIL, JIRA_PAT, JIRA_TOKEN, serve

__all__ = ["Sandbox", "FaultRule", "RequestRecord", "serve", "JIRA_EMAIL", "JIRA_TOKEN", "JIRA_PAT",
           "GITHUB_TOKEN", "GITLAB_TOKEN"]
