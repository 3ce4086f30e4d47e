"""The Jira kind (Cloud and Server/Data Center): config, scopes, mapping, adapter, registered as KIND."""

from connector.trackers.base import TrackerKind
from connector.trackers.jira import scopes
from connector.trackers.jira.config import JiraTrackerSettings
from connector.trackers.jira.mapping import load_jira_mapping

LABEL_MAX = 255  # Jira refuses longer labels


def label_problem(label: str) -> str | None:
    """Jira labels are single words: a space (or any whitespace) makes every write of them fail."""
    if any(ch.isspace() for ch in label):
        return "Jira labels cannot contain spaces or other whitespace"
    if len(label) > LABEL_MAX:
        return f"Jira labels are at most {LABEL_MAX} characters"
    return None


KIND = TrackerKind(
    name="jira",
    title="Jira",
    settings=JiraTrackerSettings,
    scope=scopes.JiraScope,
    adapter="connector.trackers.jira.adapter:JiraAdapter",
    load_mapping=load_jira_mapping,
    claims=scopes.claims,
    problems=scopes.problems,
    scope_hint=scopes.HINT,
    comment_limit=32_000,  # Jira Cloud refuses comment bodies over 32,767 characters
    report_notes=("Jira scope membership (JQL) is known only as of the latest pull, so for past weeks "
                  "Jira items are placed in milestones by today's membership; GitHub scopes are "
                  "evaluated exactly on each item's recorded state.",),
    loggers=("jira",),
    label_problem=label_problem,
)
