"""The naive way a user would write the same pull, for the side-by-side rows of the benchmark table.

PyGithub `get_issues(state="all")` with its default page size (30), touching `.labels` and `.milestone`;
the `jira` library's search with its defaults (`maxResults=50`, `fields="*all"`), paging to the end.
Only this module and the sandbox-facing benchmark code import the vendor libraries for this purpose.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def naive_github(url: str, token: str, repos: list[str], *, throttle: bool = False) -> int:
    """Every issue of every repo the PyGithub way; returns how many issues (PRs included) were read.

    PyGithub's defaults are kept except its 0.25 s pause between requests (`throttle=False`), which
    would only add 0.25 s x requests of idle time to the wall figure; the request count is unaffected.
    """
    from github import Auth, Github

    kwargs = {} if throttle else {"seconds_between_requests": None}
    gh = Github(auth=Auth.Token(token), base_url=url, **kwargs)
    try:
        seen = 0
        kept = []  # a user's script keeps what it read: part of the memory a naive pull costs
        for name in repos:
            repo = gh.get_repo(name)
            for issue in repo.get_issues(state="all"):
                labels = [label.name for label in issue.labels]
                milestone = issue.milestone.title if issue.milestone else None
                kept.append((issue.number, issue.state, labels, milestone))
                seen += 1
        return seen
    finally:
        gh.close()


def naive_jira(url: str, email: str, token: str, jqls: list[str]) -> int:
    """Every issue of every JQL the `jira` library way (defaults); returns how many issues were read.

    Cloud: `search_issues` delegates to the enhanced search and returns one page of 50 with a
    `nextPageToken` the caller follows; Server: the caller advances `startAt` until `total`.
    """
    from jira import JIRA

    client = JIRA(server=url, basic_auth=(email, token))
    try:
        seen = 0
        kept = []
        for jql in jqls:
            if client._is_cloud:
                token_ = None
                while True:
                    page = client.enhanced_search_issues(jql, nextPageToken=token_)
                    kept += [(i.key, i.fields.status.name, [v.name for v in i.fields.fixVersions]) for i in page]
                    seen += len(page)
                    token_ = getattr(page, "nextPageToken", None)
                    if not token_ or not len(page):
                        break
            else:
                start = 0
                while True:
                    page = client.search_issues(jql, startAt=start)
                    kept += [(i.key, i.fields.status.name, [v.name for v in i.fields.fixVersions]) for i in page]
                    seen += len(page)
                    start += len(page)
                    if not len(page) or start >= page.total:
                        break
        return seen
    finally:
        client.close()
