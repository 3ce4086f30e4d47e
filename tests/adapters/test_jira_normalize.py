"""Pure normalization helpers of the Jira adapter: times, GitHub references, field discovery, sprints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.model import Status
from connector.trackers.jira.mapping import load_jira_mapping
from connector.trackers.jira.normalize import (
    FieldIds,
    Normalizer,
    discover_fields,
    github_refs,
    parse_jira_time,
)
from connector.trackers.jira.search import since_literal
from tests.adapters import jira_fixtures as fx


@pytest.mark.parametrize("text", ["2026-11-20T14:03:11.123+0000", "2026-11-20T16:03:11.123+0200",
                                  "2026-11-20T14:03:11.123Z", "2026-11-20T09:03:11.123-05:00"])
def test_jira_times_become_utc(text):
    assert parse_jira_time(text) == datetime(2026, 11, 20, 14, 3, 11, 123000, tzinfo=UTC)


def test_github_references_in_short_and_url_forms_each_once():
    texts = ["Fixes acme/checkout-web#12 (see https://github.com/acme/checkout-web/issues/12)",
             "and https://github.com/acme/api/pull/7; not a ref: CHK-12, path/to/file.py, a#b"]
    assert github_refs(texts) == ("acme/checkout-web#12", "acme/api#7")


def test_fields_are_discovered_by_schema_not_id(refdata):
    found = discover_fields(fx.field_list())
    assert found == FieldIds(sprint=fx.SPRINT, epic_link=fx.EPIC_LINK, story_points=fx.POINTS)
    renamed = [{**f, "id": "customfield_99999"} if f.get("name") == "Sprint" else f for f in fx.field_list()]
    assert discover_fields(renamed).sprint == "customfield_99999"
    team_managed = [{"id": "customfield_10016", "name": "Story point estimate", "custom": True,
                     "schema": {"type": "number", "custom":
                                "com.atlassian.jira.plugin.system.customfieldtypes:jsw-story-points"}}]
    assert discover_fields(team_managed).story_points == "customfield_10016"


def test_legacy_server_sprint_strings_and_odd_points_do_not_fail(refdata):
    raw = fx.issue("DZFNK0168-1", server=True)
    raw["fields"]["customfield_10100"] = [
        "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=4,rapidViewId=2,state=CLOSED,name=Sprint 3,"
        "startDate=2023-05-01T09:00:00.000Z,endDate=2023-05-15T09:00:00.000Z,completeDate=<null>,sequence=4]",
        "com.atlassian.greenhopper.service.sprint.Sprint@3c4d[id=5,rapidViewId=2,state=ACTIVE,name=Sprint 4,"
        "startDate=2023-05-15T09:00:00.000Z,endDate=2023-05-29T09:00:00.000Z,completeDate=<null>,sequence=5]"]
    raw["fields"]["customfield_10101"] = "n/a"
    normalizer = Normalizer("jira", fx.SERVER_BASE, load_jira_mapping(),
                            FieldIds(sprint="customfield_10100", story_points="customfield_10101"))
    unmapped: set[str] = set()
    item = normalizer.item(raw, unmapped)
    assert item.sprint == "Sprint 4" and item.estimate is None and item.status is Status.TODO
    assert unmapped == set()  # "To Do" is named in the shipped mapping
    carried = [m for m, _ in normalizer.carried_milestones([raw], {raw["id"]: "DZFNK0168"})]
    assert [(m.name, m.state, str(m.due)) for m in carried if m.kind == "sprint"] == [
        ("Sprint 3", "closed", "2023-05-15"), ("Sprint 4", "active", "2023-05-29")]


def test_epoch_millisecond_cursor_when_the_account_has_no_timezone():
    literal = since_literal(datetime(2026, 11, 20, 14, 3, 11, tzinfo=UTC), 5, None)
    assert literal == f"updated >= {int(datetime(2026, 11, 20, 13, 58, tzinfo=UTC).timestamp()) * 1000}"
