"""The plan review's pure parts: every kind of plan edit from two plan files, and the Markdown's escaping."""

from __future__ import annotations

from pathlib import Path

from connector.plan_file import load_plan
from connector.review import PlanEdit, diff_plans
from connector.review_render import _code, _md, edit_sentence

BASE = """
[plan]
name = "P"
timezone = "UTC"

[people.ann]
name = "Ann"
jira = "ann@example.com"

[people.bob]
github = "bob"

[[milestones]]
key = "a"
title = "A"
due = 2027-01-01
owner = "ann"

  [[milestones.scope]]
  tracker = "jira"
  jql = "project = A"

[[milestones]]
key = "b"
title = "B"
due = 2027-02-01
depends_on = ["a"]

  [[milestones.scope]]
  tracker = "gh"
  repo = "acme/web"
  label = "b"

[[risks]]
title = "Slip"
milestone = "a"

[[risks]]
title = "Gone"

[[watch]]
tracker = "jira"
jql = "project = A"
"""


def _plan(tmp_path: Path, text: str, name: str):
    path = tmp_path / name
    path.write_text(text)
    return load_plan(path)


def _edits(tmp_path, after: str) -> tuple[set[tuple], dict]:
    edits, rekeyed = diff_plans(_plan(tmp_path, BASE, "a.toml"), _plan(tmp_path, after, "b.toml"))
    return {(e.what, e.subject, e.before, e.after) for e in edits}, rekeyed


def test_the_same_plan_has_no_edits(tmp_path):
    assert _edits(tmp_path, BASE) == (set(), {})


def test_every_kind_of_edit(tmp_path):
    after = (BASE.replace('name = "P"', 'name = "Q"').replace('key = "a"\ntitle = "A"\ndue = 2027-01-01\nowner = "ann"',
                                                            'key = "a"\ntitle = "Alpha"\ndue = 2027-01-15\nowner = "bob"')
             .replace('depends_on = ["a"]', "depends_on = []").replace('label = "b"', 'label = "beta"')
             .replace('[people.bob]\ngithub = "bob"', '[people.bob]\ngithub = "bobby"')
             .replace('[[risks]]\ntitle = "Gone"\n', "").replace('milestone = "a"\n', 'milestone = "a"\nimpact = "high"\n')
             .replace('[[watch]]\ntracker = "jira"\njql = "project = A"', '[[watch]]\ntracker = "jira"\njql = "project = W"'))
    edits, _ = _edits(tmp_path, after)
    assert edits == {
        ("plan_changed", "name", "P", "Q"),
        ("milestone_renamed", "a", "A", "Alpha"),
        ("due_moved", "a", "2027-01-01", "2027-01-15"),
        ("owner_changed", "a", "ann", "bob"),
        ("depends_changed", "b", "a", None),
        ("scope_added", "b", None, "gh: acme/web label 'beta'"),
        ("scope_removed", "b", "gh: acme/web label 'b'", None),
        ("watch_added", "", None, "jira: project = W"),
        ("watch_removed", "", "jira: project = A", None),
        ("person_changed", "bob", "github bob", "github bobby"),
        ("risk_changed", "Slip", "likelihood medium, impact medium, milestone a",
         "likelihood medium, impact high, milestone a"),
        ("risk_removed", "Gone", "likelihood medium, impact medium", None),
    }


def test_a_milestone_with_the_same_scopes_under_a_new_key_is_re_keyed_not_replaced(tmp_path):
    after = BASE.replace('key = "b"', 'key = "beta"')
    edits, rekeyed = _edits(tmp_path, after)
    assert rekeyed == {"beta": "b"}
    assert edits == {("milestone_rekeyed", "beta", "b", "beta")}
    added = BASE + '\n[[milestones]]\nkey = "c"\ntitle = "C"\ndue = 2027-03-01\n'
    assert _edits(tmp_path, added)[0] == {("milestone_added", "c", None, "C, due 2027-03-01")}
    removed = BASE.replace('depends_on = ["a"]', "").replace('milestone = "a"\n', "").split("[[milestones]]")
    text = removed[0] + "[[milestones]]" + removed[2]
    assert ("milestone_removed", "a", "A, due 2027-01-01", None) in _edits(tmp_path, text)[0]


def test_markdown_escapes_what_people_and_trackers_wrote():
    hostile = "<img src=x onerror=alert(1)> **bold** @org/team | cell [link](http://x)"
    text = _md(hostile)
    assert "<" not in text and ">" not in text and "@org" not in text and "\\|" in text and "\\*\\*" in text
    assert _code("a`b") == "``a`b``" and "|" not in _code("x|y")
    sentence = edit_sentence(PlanEdit("milestone_renamed", "k`", "<b>", "@all"), _code, _md)
    assert sentence == 'milestone `` k` `` renamed: "&lt;b&gt;" → "@\u2060all"'
