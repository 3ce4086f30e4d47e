"""Where the vendors' OpenAPI descriptions are wrong, in one place, each with the evidence.

Two kinds: PATCHES rewrite the loaded description before validation (the description contradicts what
the service sends everywhere); WAIVERS excuse one violation on one operation. Evidence paths are under
../shared/refdata (the recorded vendor payloads and the descriptions themselves).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def _github_nullable_enum(node: dict) -> None:
    if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]


def _jira_timestamps(node: dict) -> None:
    if node.get("format") == "date-time" and node.get("type") == "string":
        del node["format"]


def _jira_change_nullable(node: dict) -> None:
    comps = node.get("components")
    change = comps.get("schemas", {}).get("ChangeDetails") if isinstance(comps, dict) else None
    if isinstance(change, dict) and "properties" in change:
        for prop in change["properties"].values():
            prop["nullable"] = True


def _agile_list_params(node: dict) -> None:
    for param in node.get("parameters", []) if isinstance(node.get("parameters"), list) else []:
        if param.get("in") == "query" and param.get("name") in ("type", "state") and \
                param.get("schema") == {"additionalProperties": False, "type": "object"}:
            param["schema"] = {"type": "string"}


def _github_account_all_of(node: dict) -> None:
    members = node.get("allOf")
    if isinstance(members, list) and {m.get("title") for m in members if isinstance(m, dict)} == {
            "Simple User", "Enterprise"}:
        node["anyOf"] = node.pop("allOf")


@dataclass(frozen=True)
class Patch:
    spec: str  # "github", "jira-platform", "jira-software" or "jira" (both Jira descriptions)
    what: str
    evidence: str
    fix: object  # called on every dict node of the description


PATCHES = [
    Patch("github", "`nullable: true` fields with an `enum` of strings only (state_reason, active_lock_reason): "
          "OpenAPI 3.0 validators read the enum as forbidding null; GitHub sends null on open issues.",
          "github-replay/pygithub/ReplayData/IssueDependencies.setUp.txt (\"state_reason\": null on an open issue)",
          _github_nullable_enum),
    Patch("github", "GET /app/installations types each installation's `account` as allOf [Simple User, "
          "Enterprise] (no account is both: a user has no slug, an enterprise no login), where the shared "
          "`installation` schema of the same object says anyOf.",
          "specs/github/api.github.com.octokit-openapi-23.0.2.json.gz (components.schemas.installation.properties"
          ".account is anyOf; the inlined items of GET /app/installations say allOf)", _github_account_all_of),
    Patch("jira", "`format: date-time` on Jira timestamps: Jira sends 2026-11-20T14:03:11.123+0000 (no colon in "
          "the offset), which RFC 3339 date-time rejects.",
          "jira-recorded/devlake-raw-tables/_raw_jira_api_issues.csv (\"created\": \"2020-06-17T13:04:03.848+0800\")",
          _jira_timestamps),
    Patch("jira-platform", "ChangeDetails from/fromString/to/toString typed as non-nullable strings; Jira sends "
          "null when a value is added or cleared.",
          "jira-recorded/devlake-raw-tables/_raw_jira_api_issue_changelogs.csv (\"from\": null)",
          _jira_change_nullable),
    Patch("jira-software", "GET /board `type` and GET /board/{boardId}/sprint `state` are typed as objects "
          "(no value can pass), while their own descriptions say `Valid values: scrum, kanban, simple` and "
          "`separated by commas, e.g. state=active,closed`: they are comma-separated strings.",
          "specs/jira/jira-software.swagger.v3.json (the two parameters' description text); "
          "jira-recorded/go-jira/mock-data/sprints_filtered.json (a state-filtered sprint list)",
          _agile_list_params),
]


@dataclass(frozen=True)
class Waiver:
    spec: str
    method: str  # "*" for any
    path: str  # a path template of the description, or a regex of paths it lacks
    status: str  # "*" for any, else the response status; "" for a request check
    match: str  # a substring of the violation message
    what: str
    evidence: str

    def covers(self, spec: str, method: str, template: str, status: str, message: str) -> bool:
        return (self.spec == spec and self.method in ("*", method) and self.status in ("*", status)
                and re.fullmatch(self.path, template) is not None and self.match in message)


_GH_304 = (r"/repos/\{owner\}/\{repo\}/issues|/repos/\{owner\}/\{repo\}/milestones(/\{milestone_number\})?"
           r"|/repos/\{owner\}/\{repo\}/labels|/repos/\{owner\}/\{repo\}/issues/\{issue_number\}/comments"
           r"|/repos/\{owner\}/\{repo\}|/repos/\{owner\}/\{repo\}/pulls|/repos/\{owner\}/\{repo\}/labels/\{name\}"
           r"|/repos/\{owner\}/\{repo\}/issues/\{issue_number\}/events|/orgs/\{org\}|/orgs/\{org\}/repos"
           r"|/search/issues|/users/\{username\}")

WAIVERS = [
    Waiver("github", "GET", _GH_304, "304", "Unknown response http status: 304",
           "The description declares 304 on only a few GETs (one issue, /user, /rate_limit); GitHub answers a "
           "matching If-None-Match with 304 on every GET (conditional requests are documented for all of them).",
           "github-replay/pygithub/ReplayData/ConditionalRequestUpdate.testDidNotUpdate.txt (304 on GET "
           "/repos/{owner}/{repo}, which the description does not list)"),
    Waiver("github", "POST", r"/repos/\{owner\}/\{repo\}/issues/\{issue_number\}/labels", "",
           "is not valid under any of the given schemas",
           "Add-labels accepts a bare JSON array of names (the description's own text says so: 'You can also "
           "pass an array of labels directly'), but its schema lists only the {labels: [...]} object. PyGithub "
           "sends the array; plansync sends the object.",
           "github-replay/pygithub/ReplayData/Issue.testAddAndRemoveLabels.txt (POST body [\"Bug\", \"Question\"], "
           "answered 200)"),
    Waiver("github", "*", r".*", "401", "Unknown response http status: 401",
           "Most operations do not declare 401; GitHub answers any request with a bad token 401 Bad credentials.",
           "github-replay/pygithub/ReplayData/Exceptions.testBadAuthentication.txt (401 {\"message\":\"Bad "
           "credentials\"})"),
    Waiver("github", "GET", r"/repositories/\d+/issues/\d+", "*", "Path not found",
           "The target of the 301 for a transferred issue (/repositories/{id}/issues/{n}) is not described.",
           "no recording in refdata; GitHub's docs (Troubleshooting > HTTP redirects) give this Location form for a "
           "transferred issue, and the described 301 of GET issue points there"),
    Waiver("github", "GET", r"/orgs/\{org\}/installation", "404", "Unknown response http status: 404",
           "GET /orgs/{org}/installation declares only 200, yet an app not installed on the organisation cannot "
           "get its installation; GitHub answers 404 Not Found, as the described sibling lookup by repository "
           "(GET /repos/{owner}/{repo}/installation, which declares 404) does.",
           "no recording of this error in refdata; the 404 declaration of GET /repos/{owner}/{repo}/installation "
           "in specs/github/api.github.com.octokit-openapi-23.0.2.json.gz"),
    Waiver("jira-software", "*", r"/rest/agile/1\.0/.*", "", "security",
           "The Agile description lists only OAuth2 under each operation's `security`, although it declares "
           "basicAuth and Jira Cloud accepts an API token with basic auth on every agile endpoint.",
           "specs/jira/jira-software.swagger.v3.json (components.securitySchemes.basicAuth, unused); "
           "jira-recorded/devlake-raw-tables/_raw_jira_api_sprints.csv (agile answers DevLake's Jira connector "
           "fetched with an API token over basic auth)"),
    Waiver("jira-platform", "GET", r"/rest/api/3/issue/\{issueIdOrKey\}/remotelink", "200", "InvalidData",
           "GET remotelink is typed as one RemoteIssueLink object; Jira returns a JSON array of them (the "
           "description's own example is an array). Tests check each element against RemoteIssueLink.",
           "jira-recorded/go-jira/mock-data/remote_links.json (an array)"),
    Waiver("jira-platform", "*", r"/rest/api/3/.*", "204", "Missing response data",
           "204s of PUT issue, POST transitions and DELETEs declare an `application/json` body; Jira sends "
           "none and no Content-Type.",
           "no 204 body recorded in refdata; the description's own text for these 204s is 'Returned if the request is "
           "successful.' and a 204 carries no content by definition (RFC 9110, 15.3.5)"),
    Waiver("jira-platform", "GET", r"/rest/api/3/project/\{projectIdOrKey\}/version"
           r"|/rest/api/3/issue/\{issueIdOrKey\}/changelog", "400", "Unknown response http status: 400",
           "These two paged lists declare no 400, yet a malformed query (startAt=x) cannot succeed; the sandbox "
           "answers 400 in Jira's errorMessages shape, as Jira does on the paged lists that declare it "
           "(GET /rest/api/3/project/search, the agile board and sprint lists).",
           "no recording of this error in refdata; the 400 declarations of the sibling operations in "
           "specs/jira/jira-platform.swagger-v3.v3.json and specs/jira/jira-software.swagger.v3.json"),
    Waiver("jira-platform", "*", r"/rest/api/3/search", "410", "Unknown response http status: 410",
           "The legacy /rest/api/3/search is still described; Jira Cloud removed it and answers 410.",
           "jira-recorded/quoted-errors/410-search-removed.body.json"),
]


# Jira Cloud publishes one description, for REST v3; v2 differs only in sending rich text (description,
# comment body) as plain strings instead of Atlassian Document Format, and the v3 description leaves
# those unconstrained (Comment.body and IssueBean.fields have no type). So /rest/api/2/... exchanges
# with the Cloud flavour are validated against the matching /rest/api/3/... operation.
V2_AS_V3 = ("jira-platform", "/rest/api/2/", "/rest/api/3/")


def waiver_for(spec: str, method: str, template: str, status: str, message: str) -> Waiver | None:
    return next((w for w in WAIVERS if w.covers(spec, method, template, status, message)), None)


def patch(spec: str, data: dict) -> dict:
    fixes = [p.fix for p in PATCHES if p.spec == spec or (p.spec == "jira" and spec.startswith("jira"))]

    def walk(node):
        if isinstance(node, dict):
            for fix in fixes:
                fix(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(data)
    return data
