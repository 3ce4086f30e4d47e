"""The GitHub kind (github.com and Enterprise Server): config, scopes, mapping, adapter, registered as KIND."""

from connector.trackers.base import TrackerKind
from connector.trackers.github import scopes
from connector.trackers.github.config import GithubTrackerSettings
from connector.trackers.github.mapping import load_github_mapping

KIND = TrackerKind(
    name="github",
    title="GitHub",
    settings=GithubTrackerSettings,
    scope=scopes.GithubScope,
    adapter="connector.trackers.github.adapter:GithubAdapter",
    load_mapping=load_github_mapping,
    claims=scopes.claims,
    problems=scopes.problems,
    scope_hint=scopes.HINT,
    comment_limit=65_000,  # GitHub refuses comment bodies over 65,536 characters
    loggers=("github",),
)
