"""The GitHub kind (github.com and Enterprise Server): config, scopes, mapping, adapter, registered as KIND."""

from connector.trackers.base import TrackerKind
from connector.trackers.github import scopes
from connector.trackers.github.config import GithubTrackerSettings
from connector.trackers.github.mapping import load_github_mapping

LABEL_MAX = 50  # GitHub refuses longer label names


def label_problem(label: str) -> str | None:
    if len(label) > LABEL_MAX:
        return f"GitHub label names are at most {LABEL_MAX} characters"
    if label != label.strip():
        return "GitHub strips leading and trailing spaces from label names"
    return None


def fold_label(label: str) -> str:
    """GitHub label names are case-insensitive: `Plan:Off-Track` is the same label as `plan:off-track`."""
    return label.casefold()


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
    label_problem=label_problem,
    fold_label=fold_label,
)
