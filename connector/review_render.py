"""Renderers of a plan review, separate from its computation: text for a terminal, Markdown for a
pull-request comment, JSON for machines."""

from __future__ import annotations

import json
import re

from connector.plan_render import render_json, render_text
from connector.reconcile import Reconciliation
from connector.review import MilestoneEffect, PlanEdit, Review, Side

FIRST_KEYS = 5  # item keys named per milestone and direction; the count says the rest
MARKDOWN_CHANGE_LINES = 150  # label-change lines in a comment; `plansync plan` prints them all
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def edit_sentence(edit: PlanEdit, code=lambda s: s, prose=lambda s: s) -> str:
    """One edit in words; `code` wraps keys, scopes and values, `prose` titles and descriptions
    (Markdown code spans and escaping, or nothing)."""
    s, b, a = code(edit.subject), edit.before, edit.after
    ms = f"milestone {s}"
    return {
        "plan_changed": lambda: f"plan {edit.subject}: {code(b or 'none')} → {code(a or 'none')}",
        "milestone_added": lambda: f"{ms} added: {prose(a)}",
        "milestone_removed": lambda: f"{ms} removed (was {prose(b)})",
        "milestone_rekeyed": lambda: f"milestone {code(b)} re-keyed to {s} (same scopes)",
        "milestone_renamed": lambda: f"{ms} renamed: \"{prose(b)}\" → \"{prose(a)}\"",
        "due_moved": lambda: f"{ms} due date moved: {b} → {a}",
        "owner_changed": lambda: f"{ms} owner: {code(b or 'none')} → {code(a or 'none')}",
        "depends_changed": lambda: f"{ms} depends on: {code(b or 'nothing')} → {code(a or 'nothing')}",
        "description_changed": lambda: f"{ms} description changed",
        "scope_added": lambda: f"{ms} scope added: {code(a)}",
        "scope_removed": lambda: f"{ms} scope removed: {code(b)}",
        "watch_added": lambda: f"watch scope added: {code(a)}",
        "watch_removed": lambda: f"watch scope removed: {code(b)}",
        "person_added": lambda: f"person {s} added: {prose(a)}",
        "person_removed": lambda: f"person {s} removed (was {prose(b)})",
        "person_changed": lambda: f"person {s}: {prose(b)} → {prose(a)}",
        "risk_added": lambda: f"risk \"{prose(edit.subject)}\" added: {prose(a)}",
        "risk_removed": lambda: f"risk \"{prose(edit.subject)}\" removed",
        "risk_changed": lambda: f"risk \"{prose(edit.subject)}\": {prose(b)} → {prose(a)}",
    }[edit.what]()


def _forecast(side: Side | None) -> str:
    if side is None:
        return "—"
    if side.forecast == "complete":
        return "complete"
    if side.p50 is None:
        return "no forecast"
    return f"p50 {side.p50}, p85 {side.p85}"


def _arrow(before: str, after: str) -> str:
    return before if before == after else f"{before} → {after}"


def _count(side: Side | None) -> str:
    return "—" if side is None else f"{side.items} ({side.done} done)"


def _keys(keys: tuple[str, ...], sign: str) -> str:
    if not keys:
        return f"{sign}0"
    named = ", ".join(keys[:FIRST_KEYS]) + (", …" if len(keys) > FIRST_KEYS else "")
    return f"{sign}{len(keys)}: {named}"


def _headline(review: Review) -> str:
    plan = review.change_plan
    line = f"The next apply would change labels on {len(plan.changes)} item(s)"
    if plan.changes and review.also_now:
        line += f" ({review.also_now} of them pending under the current plan too)"
    return line + "."


# --- text -------------------------------------------------------------------------------------------

def render_review_text(review: Review, after: Reconciliation) -> str:
    lines = [f"Plan review: {_clean(review.before_source)} → {_clean(review.after_source)}", ""]
    if review.would_refuse:
        lines += [f"WARNING: apply would refuse this change without --force ({review.guard_line})", ""]
    lines.append(f"Plan changes ({len(review.edits)}):" if review.edits else "Plan changes: none")
    lines += [f"  ~ {_clean(edit_sentence(e))}" for e in review.edits]
    lines += ["", "Milestones (before → after):"]
    quiet = [m.key for m in review.milestones if not m.changed]
    for m in review.milestones:
        if not m.changed:
            continue
        head = f"{m.was} → {m.key}" if m.was else m.key
        lines.append(f"  {_clean(head)} ({_clean(m.title)}): items {_arrow(_count(m.before), _count(m.after))}; "
                     f"entering {_keys(m.entering, '+')}; leaving {_keys(m.leaving, '-')}")
        lines.append(f"      health {_arrow(_health(m.before), _health(m.after))}; "
                     f"forecast {_arrow(_forecast(m.before), _forecast(m.after))}")
    if quiet:
        lines.append(f"  unchanged: {_clean(', '.join(quiet))}")
    lines += [*(f"note: {_clean(n)}" for n in review.notes), "", "Label changes the next apply would make:",
              _headline(review)]
    lines.append(render_text(review.change_plan, after, max_share=review.max_share,
                             min_guarded=review.min_guarded).rstrip("\n"))
    return "\n".join(lines) + "\n"


def _health(side: Side | None) -> str:
    return "—" if side is None else side.health


# --- Markdown ---------------------------------------------------------------------------------------

def render_review_markdown(review: Review, after: Reconciliation) -> str:
    """For a pull-request comment. Every text from a file or a tracker is escaped, so a title cannot
    break the layout, inject HTML or mention people."""
    out = [f"### plansync plan review: {_code(review.before_source)} → {_code(review.after_source)}", ""]
    if review.would_refuse:
        out += [f"> **Warning: the next apply would refuse this change without `--force`** — {_md(review.guard_line)}.",
                "> Merge it only if the re-scoping is intended, and apply it with `--force`.", ""]
    out.append(f"**Plan changes** ({len(review.edits)})" if review.edits else "**Plan changes**: none")
    out.append("")
    out += [f"- {edit_sentence(e, _code, _md)}" for e in review.edits]
    out += ["", "**Milestones** (before → after)", "",
            "| milestone | items | entering | leaving | health | forecast |", "|---|---|---|---|---|---|"]
    for m in review.milestones:
        out.append(_milestone_row(m))
    out.append("")
    out += [f"> {_md(n)}" for n in review.notes]
    plan_text = render_text(review.change_plan, after, max_share=review.max_share, min_guarded=review.min_guarded)
    lines = plan_text.rstrip("\n").split("\n")
    out += ["**Label changes the next apply would make**", "", _md(_headline(review)),
            "", _md(review.change_plan.summary()) + " " + _code(review.guard_line), ""]
    if review.change_plan.changes:
        if len(lines) > MARKDOWN_CHANGE_LINES:
            lines = lines[:MARKDOWN_CHANGE_LINES] + [
                f"… {len(lines) - MARKDOWN_CHANGE_LINES} more line(s): run `plansync plan --proposed` to see all"]
        out += ["<details><summary>every change, with its cause</summary>", "", *_fenced("\n".join(lines)),
                "", "</details>"]
    return "\n".join(out) + "\n"


def _milestone_row(m: MilestoneEffect) -> str:
    name = f"{_code(m.was)} → {_code(m.key)}" if m.was else _code(m.key)
    return (f"| {name} {_md(m.title)} | {_arrow(_count(m.before), _count(m.after))} | "
            f"{_md_keys(m.entering, '+')} | {_md_keys(m.leaving, '−')} | "
            f"{_arrow(_health(m.before), _health(m.after))} | {_arrow(_forecast(m.before), _forecast(m.after))} |")


def _md_keys(keys: tuple[str, ...], sign: str) -> str:
    if not keys:
        return ""
    return f"{sign}{len(keys)}: " + ", ".join(_code(k) for k in keys[:FIRST_KEYS]) + \
        (", …" if len(keys) > FIRST_KEYS else "")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _md(text: str) -> str:
    """Plain text safe inside Markdown prose and table cells: no HTML, no formatting, no @-mentions."""
    text = _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "@\u2060")  # a word joiner keeps `@team` from notifying anyone


def _code(text: str | None) -> str:
    """A code span that no backtick inside can end (and no pipe can split a table cell)."""
    text = _clean(text or "").replace("|", "\u2223")
    ticks = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fenced(text: str) -> list[str]:
    ticks = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * max(3, ticks + 1)
    return [f"{fence}text", _clean_block(text), fence]


def _clean(text: str) -> str:
    return _CONTROL.sub("\ufffd", text)


def _clean_block(text: str) -> str:
    return "\n".join(_clean(line) for line in text.split("\n"))


# --- JSON -------------------------------------------------------------------------------------------

def render_review_json(review: Review) -> str:
    def side(s: Side | None):
        return None if s is None else {"items": s.items, "done": s.done, "health": s.health, "forecast": s.forecast,
                                       "p50": s.p50 and s.p50.isoformat(), "p85": s.p85 and s.p85.isoformat()}

    document = {
        "before": review.before_source,
        "after": review.after_source,
        "plan_changes": [{"what": e.what, "subject": e.subject, "before": e.before, "after": e.after,
                          "text": edit_sentence(e)} for e in review.edits],
        "milestones": [{"key": m.key, "was": m.was, "title": m.title, "before": side(m.before),
                        "after": side(m.after), "entering": list(m.entering), "leaving": list(m.leaving)}
                       for m in review.milestones],
        "label_changes": json.loads(render_json(review.change_plan, max_share=review.max_share,
                                                min_guarded=review.min_guarded)),
        "pending_under_current_plan": review.also_now,
        "guard_line": review.guard_line,
        "would_refuse": review.would_refuse,
        "notes": list(review.notes),
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
