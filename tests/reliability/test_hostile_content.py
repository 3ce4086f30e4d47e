"""Hostile tracker content (huge titles, control characters, HTML/script, Markdown injection, odd Unicode
labels, an issue with 10,000 labels): the run completes, the report escapes everything, and the owned-label
diffs stay exact.
"""

from __future__ import annotations

import json

from tests.reliability.harness import assert_no_traceback, duplicates, owned_labels, record

SCRIPT = "<script>alert('x')</script>"
IMG = '<img src=x onerror="alert(1)">'
MD_LINK = "[click me](javascript:alert(1))"
MD_IMAGE = "![tracker](http://evil.example/pixel.png)"
CONTROL = "\x00\x07\x1b[31mred\x1b[0m\x08\x7f\u0085"
HUGE = "A" * 100_000
ODD_LABELS = ["\u202eevil-rtl", "zero\u200dwidth\u200djoiner", "🔥on-fire", "ﬁ-ligature", "e\u0301-combining",
              "PLAN:on-track"]  # on Jira a lookalike outside the (case-sensitive) owned prefix: never touched
# on GitHub `PLAN:on-track` IS `plan:on-track` (names are case-insensitive there, issue #17): plansync's own
OWNED_LOOKALIKE = "plan:\u200bon-track"  # inside the prefix but not a label plansync sets: it is removed
MANY = [f"team-label-{n:05d}" for n in range(10_000)]


def _title(n: int) -> str:
    return f"{SCRIPT} {IMG} {MD_LINK} {MD_IMAGE} | a | table | # heading {CONTROL} {n}\n`code` **bold** <!-- x -->"


def test_hostile_tracker_content_is_escaped_and_labels_stay_exact(workspace, reference_labels):
    ws = workspace()
    ws.env["PLANSYNC_REPORT__FORMATS"] = '["md", "html", "json"]'
    sb = ws.sandbox
    # labelled once first: an owned-looking label on a never-labelled store would (rightly) trip the
    # first-apply safety threshold, which is not what this test is about
    assert ws.main("apply").code == 0
    sb.reset_counts()  # the writes below are the second run's only
    jira = sorted(k for (t, k) in reference_labels if t == "jira")
    github = sorted(k for (t, k) in reference_labels if t == "github")
    sb.update_jira_issue(jira[0], summary=HUGE + _title(0))
    sb.update_jira_issue(jira[1], summary=_title(1),
                         labels=[*sb.jira_issue(jira[1]).labels, *ODD_LABELS, OWNED_LOOKALIKE])
    repo, _, number = github[0].partition("#")
    sb.update_github_issue(repo, int(number), title=_title(2),
                           labels=[*sb.github_issue(repo, int(number)).labels, *ODD_LABELS[:-1], OWNED_LOOKALIKE])
    many_repo, _, many_number = github[1].partition("#")
    sb.update_github_issue(many_repo, int(many_number), title=HUGE,
                           labels=[*MANY, *sb.github_issue(many_repo, int(many_number)).labels])

    def foreign(labels) -> list[str]:
        return [x for x in labels if not x.startswith("plan:")]

    foreign_before = {"many": foreign(sb.github_issue(many_repo, int(many_number)).labels),
                      "odd github": foreign(sb.github_issue(repo, int(number)).labels),
                      "odd jira": foreign(sb.jira_issue(jira[1]).labels)}
    assert len(foreign_before["many"]) >= 10_000
    result = ws.main("run")
    assert_no_traceback(result)
    assert result.code == 0, str(result)
    assert "\x1b" not in result.text and "\x00" not in result.text, "tracker text reached the terminal raw"

    # owned-label diffs are exact: the desired labels, nothing else of ours, everything else untouched
    assert owned_labels(sb) == reference_labels
    settled = ws.main("plan", "--detailed-exitcode")
    assert settled.code == 0, str(settled)
    assert not duplicates(sb)
    assert owned_labels(sb) == reference_labels
    assert foreign(sb.github_issue(many_repo, int(many_number)).labels) == foreign_before["many"]
    odd_github = sb.github_issue(repo, int(number)).labels
    assert foreign(odd_github) == foreign_before["odd github"] and set(ODD_LABELS[:-1]) <= set(odd_github)
    assert OWNED_LOOKALIKE not in odd_github and OWNED_LOOKALIKE not in sb.jira_issue(jira[1]).labels
    assert foreign(sb.jira_issue(jira[1]).labels) == foreign_before["odd jira"]
    assert set(ODD_LABELS) <= set(sb.jira_issue(jira[1]).labels)

    reports = ws.folder / "reports"
    html = next(reports.glob("*-W*/*W*.html")).read_text()
    md = next(reports.glob("*-W*/*W*.md")).read_text()
    data = json.loads(next(reports.glob("*-W*/*W*.json")).read_text())
    for raw in (SCRIPT, IMG, "<!-- x -->"):
        assert raw not in html, f"{raw!r} reached the HTML report unescaped"
        assert raw not in md, f"{raw!r} reached the Markdown report unescaped"
    assert "&lt;script&gt;" in html
    for raw in (MD_LINK, MD_IMAGE, "\n`code`"):
        assert raw not in md, f"{raw!r} is live Markdown in the report"
    for text in (html, md):
        assert "\x1b" not in text and "\x00" not in text and "\x07" not in text
    assert len(md) < 2_000_000 and len(html) < 5_000_000, "a 100 KB title was repeated without bound"
    assert _title(2) in json.dumps(data, ensure_ascii=False) or _title(2).replace("\n", "\\n") in \
        json.dumps(data, ensure_ascii=False) or "alert" in json.dumps(data), "JSON keeps the text as data"
    record("hostile content: 100 KB titles, control chars, HTML/script, Markdown injection, odd Unicode "
           "labels, 10,000 labels", "run exit 0; reports escaped; owned labels exact", 0)
