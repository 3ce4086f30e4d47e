"""The GitLab kind's pure parts: scope validation and matching, plan-snapshot round trips that no other
kind claims, the mapping file's rules and errors, payload normalization, and `validate` on bad scopes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.errors import ConfigError
from connector.model import Plan, Status
from connector.trackers import registry
from connector.trackers.gitlab.mapping import load_gitlab_mapping
from connector.trackers.gitlab.normalize import format_updated_after, item_from_gitlab
from connector.trackers.gitlab.scopes import GitlabScope, problems
from tests.test_validate import run_cli

P = "acme/platform/checkout"


@pytest.mark.parametrize("raw,message", [
    ({}, "exactly one of"),
    ({"project": P, "group": "acme"}, "exactly one of"),
    ({"project": "checkout"}, "not a project path"),
    ({"project": P, "milestone": "Beta", "label": "x"}, "at most one"),
    ({"group": "acme/platform", "iteration": "Sprint 12"}, "group scope takes"),
    ({"project": P, "items": ["acme/platform/other#3"]}, "is not in project"),
    ({"project": P, "items": ["CHK-12"]}, "not an issue reference"),
])
def test_bad_scopes_get_one_readable_problem(raw, message):
    found = list(problems(GitlabScope(tracker="gl", **raw)))
    assert len(found) == 1 and message in found[0][0]


def test_good_scopes_have_no_problem():
    for raw in ({"project": P, "iteration": "Sprint 12"}, {"group": "acme/platform", "milestone": "Q4"},
                {"project": P, "items": [f"{P}#12"]}):
        assert list(problems(GitlabScope(tracker="gl", **raw))) == []


def test_a_snapshot_of_a_plan_with_gitlab_scopes_reads_back_as_gitlab_scopes():
    scopes = [GitlabScope(tracker="gl", project=P, milestone="Beta"),
              GitlabScope(tracker="gl", project=P, items=(f"{P}#4",)),
              GitlabScope(tracker="gl", group="acme/platform", label="payments")]
    for scope in scopes:
        dumped = scope.model_dump(mode="json")
        assert [k.name for k in registry.kinds().values() if k.claims(dumped)] == ["gitlab"]
        assert registry.scope_from(dumped) == scope and registry.scope_from(dumped).id == scope.id
    plan = Plan.model_validate({"plan": {"name": "x", "start": "2026-01-01"}, "milestones": [
        {"key": "m", "title": "M", "due": "2026-02-01", "scope": [s.model_dump() for s in scopes]}]})
    assert Plan.model_validate_json(plan.model_dump_json()) == plan


def _raw(**over) -> dict:
    raw = {"id": 7001, "iid": 12, "title": "Fix PROJ-3, see #4", "description": "and acme/platform/mobile#9",
           "state": "opened", "created_at": "2026-11-01T10:00:00.000Z", "updated_at": "2026-11-02T10:00:00.000Z",
           "closed_at": None, "labels": ["Blocked"], "milestone": {"title": "Beta"}, "assignees": [{"username": "dana"}],
           "references": {"full": f"{P}#12"}, "web_url": f"https://gitlab.example/{P}/-/issues/12", "_links": {},
           "moved_to_id": None, "iteration": {"title": "Sprint 12"}, "weight": 3, "due_date": "2026-12-01"}
    return raw | over


def test_an_issue_payload_becomes_a_work_item():
    item, fell_back = item_from_gitlab(_raw(), tracker="gl", project=P, mapping=load_gitlab_mapping())
    assert (item.id, item.key, item.container, item.status, fell_back) == ("7001", f"{P}#12", P, Status.BLOCKED, False)
    assert item.milestones == ("Beta",) and item.sprint == "Sprint 12" and item.assignees == ("dana",)
    assert set(item.links) == {"PROJ-3", f"{P}#4", "acme/platform/mobile#9"} and item.estimate == 3.0
    dup, _ = item_from_gitlab(_raw(state="closed", _links={"closed_as_duplicate_of": "http://x/api/v4/projects/1/issues/2"}),
                              tracker="gl", project=P, mapping=load_gitlab_mapping())
    assert dup.status is Status.DROPPED and dup.raw_status == "closed/duplicate"


def test_updated_after_always_carries_an_offset():
    assert format_updated_after(datetime(2026, 11, 2, 9, 0, tzinfo=UTC)) == "2026-11-02T09:00:00+00:00"
    assert format_updated_after(datetime(2026, 11, 2, 9, 0)).endswith("+00:00")


def test_a_mapping_without_opened_is_a_config_error(tmp_path):
    path = tmp_path / "gitlab.toml"
    path.write_text('[state]\nopen = "todo"\nclosed = "done"\n')
    with pytest.raises(ConfigError) as caught:
        load_gitlab_mapping(path)
    assert "opened" in str(caught.value)


def test_validate_names_a_bad_gitlab_scope_in_one_line(tmp_path):
    (tmp_path / "config.toml").write_text('[store]\nurl = "sqlite:///x.db"\n\n[trackers.gl]\nkind = "gitlab"\n'
                                          'token_env = "GL_TOKEN"\n')
    (tmp_path / "plan.toml").write_text('[plan]\nname = "x"\nstart = 2026-01-01\n\n[[milestones]]\nkey = "m"\n'
                                        'title = "M"\ndue = 2026-02-01\n  [[milestones.scope]]\n  tracker = "gl"\n'
                                        '  group = "acme"\n  iteration = "Sprint 1"\n')
    code, out, err = run_cli("validate", "--config", str(tmp_path / "config.toml"), "--plan", str(tmp_path / "plan.toml"))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "plan.toml" in lines[0] and "group scope takes" in lines[0], (out, err)
