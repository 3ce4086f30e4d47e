"""The GitLab kind (GitLab.com and self-managed, REST API v4 through python-gitlab): config, scopes,
mapping, adapter, registered as KIND."""

from connector.trackers.base import TrackerKind
from connector.trackers.gitlab import scopes
from connector.trackers.gitlab.config import GitlabTrackerSettings
from connector.trackers.gitlab.mapping import load_gitlab_mapping

KIND = TrackerKind(
    name="gitlab",
    title="GitLab",
    settings=GitlabTrackerSettings,
    scope=scopes.GitlabScope,
    adapter="connector.trackers.gitlab.adapter:GitlabAdapter",
    load_mapping=load_gitlab_mapping,
    claims=scopes.claims,
    problems=scopes.problems,
    scope_hint=scopes.HINT,
    comment_limit=1_000_000,  # GitLab refuses note bodies over 1,000,000 characters
    report_notes=("GitLab issues moved to another project count once, under their new project; the "
                  "closed original is marked moved.",),
    loggers=("gitlab",),
)
