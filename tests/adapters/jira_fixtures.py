"""Builds `responses` fixtures for the Jira adapter from the recorded payloads in ../shared/refdata.

Issues are real DevLake raw rows (Jira Cloud merico.atlassian.net and one Jira Server); search page
envelopes, which no recording holds, are built around them in the shape the Jira specs give.
"""

from __future__ import annotations

import copy
import csv
import json
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses

from connector.trackers.jira.adapter import JiraAdapter
from connector.trackers.jira.config import JiraTrackerSettings
from connector.trackers.jira.mapping import load_jira_mapping

REFDATA = Path(__file__).resolve().parents[3] / "shared" / "refdata" / "jira-recorded"
BASE = "https://acme.atlassian.net"
SERVER_BASE = "https://jira.acme.example"
TOKEN = "sekrit-jira-token-0123456789"
# Custom field ids as the recorded Cloud issues use them; /field is how the adapter learns them.
SPRINT, EPIC_LINK, POINTS = "customfield_10020", "customfield_10014", "customfield_10024"


@cache
def _rows(name: str) -> tuple[dict, ...]:
    csv.field_size_limit(1 << 30)
    with open(REFDATA / "devlake-raw-tables" / name, newline="", encoding="utf-8") as fh:
        return tuple(json.loads(row["data"]) for row in csv.DictReader(fh))


def cloud_issues() -> list[dict]:
    """33 recorded Jira Cloud issues (EE-*, K5-*): Chinese statuses, sprints, epics, subtasks."""
    return copy.deepcopy(list(_rows("_raw_jira_api_issues.csv")))


def server_issues() -> list[dict]:
    """22 recorded Jira Server issues (string descriptions, users with name/emailAddress)."""
    return copy.deepcopy(list(_rows("_raw_jira_api_issue_relationships.csv")))


def issue(key: str, *, server: bool = False) -> dict:
    return next(i for i in (server_issues() if server else cloud_issues()) if i["key"] == key)


def mock_json(name: str):
    return json.loads((REFDATA / "go-jira" / "mock-data" / name).read_text())


def removed_search_body() -> dict:
    return json.loads((REFDATA / "quoted-errors" / "410-search-removed.body.json").read_text())


def field_list(*, epic_link: bool = True) -> list[dict]:
    """go-jira's recorded /field entries plus the custom fields, in Jira's /field shape."""
    out = mock_json("all_fields.json")
    out.append({"id": SPRINT, "key": SPRINT, "name": "Sprint", "custom": True, "navigable": True,
                "clauseNames": ["cf[10020]", "Sprint"],
                "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint",
                           "customId": 10020}})
    out.append({"id": POINTS, "key": POINTS, "name": "Story Points", "custom": True, "navigable": True,
                "clauseNames": ["cf[10024]", "Story Points"],
                "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
                           "customId": 10024}})
    if epic_link:
        out.append({"id": EPIC_LINK, "key": EPIC_LINK, "name": "Epic Link", "custom": True,
                    "clauseNames": ["cf[10014]", "Epic Link"],
                    "schema": {"type": "any", "custom": "com.pyxis.greenhopper.jira:gh-epic-link",
                               "customId": 10014}})
    return out


def myself(timezone: str = "UTC", *, server: bool = False) -> dict:
    base = SERVER_BASE if server else BASE
    me = {"self": f"{base}/rest/api/2/user?accountId=5e9711ba34f7b90c0fbc37d3", "accountId": "5e9711ba34f7b90c0fbc37d3",
          "emailAddress": "plansync-bot@example.com", "displayName": "plansync bot", "active": True,
          "timeZone": timezone, "locale": "en_US", "accountType": "atlassian"}
    if server:
        del me["accountId"], me["accountType"]
        me["name"] = me["key"] = "plansync-bot"
    return me


def cloud_page(issues: list[dict], *, token: str | None = None, is_last: bool | None = None, **extra) -> dict:
    """An enhanced-search page: `nextPageToken` only when more follow; `isLast` only when given."""
    page: dict = {"issues": issues, **extra}
    if token is not None:
        page["nextPageToken"] = token
    if is_last is not None:
        page["isLast"] = is_last
    return page


def server_page(issues: list[dict], start: int, total: int, max_results: int = 100) -> dict:
    return {"expand": "schema,names", "startAt": start, "maxResults": max_results, "total": total, "issues": issues}


def numbered(template: dict, count: int, start_id: int = 50000, project: str = "EE") -> list[dict]:
    """`count` copies of a recorded issue with distinct ids/keys (for paging and request-count tests)."""
    out = []
    for n in range(count):
        raw = copy.deepcopy(template)
        raw["id"], raw["key"] = str(start_id + n), f"{project}-{1000 + n}"
        raw["fields"]["project"] = {**raw["fields"].get("project", {}), "key": project}
        out.append(raw)
    return out


def settings(*, deployment: str | None = "cloud", auth: str = "basic", url: str = BASE,
             name: str = "jira", timeout: float = 12.5) -> JiraTrackerSettings:
    tracker = JiraTrackerSettings(kind="jira", url=url, deployment=deployment, auth=auth,
                                  email="plansync-bot@example.com" if auth == "basic" else None,
                                  token_env="JIRA_API_TOKEN", timeout=timeout)
    tracker._name = name
    return tracker


def adapter(**kwargs) -> JiraAdapter:
    overlap = kwargs.pop("overlap_minutes", 5)
    policy = kwargs.pop("policy", None)
    extra = {"policy": policy} if policy else {}
    return JiraAdapter(settings(**kwargs), load_jira_mapping(), overlap_minutes=overlap, token=TOKEN, **extra)


def query(call) -> dict[str, str]:
    """The query string of a recorded `responses` call, one value per key."""
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def calls_to(rsps: responses.RequestsMock, path: str, method: str = "GET") -> list:
    return [c for c in rsps.calls if urlsplit(c.request.url).path == path and c.request.method == method]


def add_basics(rsps: responses.RequestsMock, *, base: str = BASE, api: str = "3", timezone: str | None = None,
               fields: list | None = None) -> None:
    """/field (always) and /myself (when `timezone` is given: incremental pulls)."""
    rsps.get(f"{base}/rest/api/{api}/field", json=fields if fields is not None else field_list())
    if timezone is not None:
        rsps.get(f"{base}/rest/api/{api}/myself", json=myself(timezone, server=api == "2"))


def add_no_milestones(rsps: responses.RequestsMock, projects: list[str], *, base: str = BASE, api: str = "3") -> None:
    """Empty version lists for `projects`: what a full pull asks when a scope names a version (the
    fixtures' `fixVersion = "v2.7.0"`) that none of the items it returned carries."""
    for key in projects:
        rsps.get(f"{base}/rest/api/{api}/project/{key}/version",
                 json={"startAt": 0, "maxResults": 50, "total": 0, "isLast": True, "values": []})


def add_versions(rsps: responses.RequestsMock, *projects: str, base: str = BASE, api: str = "3") -> None:
    """Empty version lists: an incremental pull refreshes the versions of projects whose items changed."""
    for key in projects:
        rsps.get(f"{base}/rest/api/{api}/project/{key}/version", json={"isLast": True, "values": []})
