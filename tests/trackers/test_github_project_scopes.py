"""Project scopes checked offline, before any request: the project reference, `field` with `value`, no
repository keys beside a project; `[trackers.NAME.project_fields]` keys; each one line, exit 2."""

from __future__ import annotations

import pytest

from connector.trackers.github.scopes import GithubScope
from tests.test_validate import CONFIG, PLAN, _write, run_cli

REPO_SCOPE = 'tracker = "github"\n  repo = "acme/checkout-web"\n  milestone = "Beta"'


def _plan(scope: str) -> str:
    assert REPO_SCOPE in PLAN
    return PLAN.replace(REPO_SCOPE, scope, 1)


@pytest.mark.parametrize(("scope", "key", "message"), [
    ('tracker = "github"\n  project = "acme"', "project", "not a project like \"acme/7\""),
    ('tracker = "github"\n  project = "acme/seven"', "project", "not a project like"),
    ('tracker = "github"\n  project = "acme/7"\n  field = "Iteration"', "value", "`field` and `value` go together"),
    ('tracker = "github"\n  project = "acme/7"\n  value = "Sprint 12"', "field", "go together"),
    ('tracker = "github"\n  field = "Iteration"\n  value = "Sprint 12"', "scope[", "narrows a project"),
    ('tracker = "github"\n  project = "acme/7"\n  repo = "acme/web"', "scope[", "takes only `project`, `field`"),
    ('tracker = "github"\n  project = "acme/7"\n  label = "x"', "scope[", "takes only"),
])
def test_a_bad_project_scope_is_one_line_exit_2(tmp_path, scope, key, message):
    config_path, plan_path = _write(tmp_path, plan=_plan(scope))
    code, out, err = run_cli("validate", "--config", str(config_path), "--plan", str(plan_path))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, (out, err)
    assert "plan.toml" in lines[0] and key in lines[0] and message in lines[0]


def test_a_good_project_scope_validates(tmp_path):
    scope = 'tracker = "github"\n  project = "acme/7"\n  field = "Iteration"\n  value = "Sprint 12"'
    config_path, plan_path = _write(tmp_path, plan=_plan(scope),
                                    config=CONFIG + '\n[trackers.github.project_fields]\ndue = "Target date"\n')
    code, out, err = run_cli("validate", "--config", str(config_path), "--plan", str(plan_path))
    assert code == 0, err


@pytest.mark.parametrize(("table", "key"), [('due = ""', "project_fields.due"),
                                            ('colour = "Status"', "project_fields.colour")])
def test_bad_project_fields_are_one_line_exit_2(tmp_path, table, key):
    config_path, plan_path = _write(tmp_path, config=CONFIG + f"\n[trackers.github.project_fields]\n{table}\n")
    code, out, err = run_cli("validate", "--config", str(config_path), "--plan", str(plan_path))
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and key in lines[0] and "config.toml" in lines[0], (out, err)


def test_a_project_scope_keeps_the_ids_of_repo_scopes_and_has_its_own():
    import hashlib

    repo = GithubScope(tracker="gh", repo="acme/web")
    first_release = hashlib.sha1("\x1f".join(("gh", "", "acme/web", "", "", "")).encode()).hexdigest()[:12]
    assert repo.id == f"gh:{first_release}"  # stored cursors and memberships keep their ids
    a = GithubScope(tracker="gh", project="acme/7")
    b = GithubScope(tracker="gh", project="ACME/7")
    c = GithubScope(tracker="gh", project="acme/7", field="Iteration", value="Sprint 12")
    assert a.id == b.id != c.id and a.remote and not repo.remote
    assert c.describe() == "gh: project acme/7 where Iteration = 'Sprint 12'"
