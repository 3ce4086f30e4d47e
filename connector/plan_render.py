"""Renderers of a change plan, separate from its computation: text for people, JSON for machines."""

from __future__ import annotations

import json
import re

from connector.changes import CAUSES, ChangePlan, biggest_groups, breaches, guard_line
from connector.reconcile import Reconciliation
from connector.values import LabelReason

_STILL_LABELLED = ("health", "unplanned")  # reason codes of items that keep an owned label
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # tracker text is untrusted: no terminal escapes


def render_text(plan: ChangePlan, reconciliation: Reconciliation, *, max_share: float = 0.30,
                min_guarded: int = 10) -> str:
    """A readable diff grouped by tracker and milestone, one line per label added or removed with its
    cause in brackets, then the notes (adoption, prefix change, held back) and the guard's line."""
    if not plan.changes:
        return "\n".join([*_notes(plan), plan.summary(), _guard(plan, max_share, min_guarded)]) + "\n"
    status = {m.key: m for m in reconciliation.milestones}
    lines: list[str] = []
    for tracker, changes in plan.by_tracker().items():
        lines.append(f"{_clean(tracker)}:")
        group_now: object = object()
        key_width = max(len(c.key) for c in changes)
        label_width = max(len(label) for c in changes for label in c.add | c.remove)
        for change in changes:
            group = plan.milestones.get((change.tracker, change.item_id))
            if group != group_now:
                group_now = group
                if group is None:
                    lines.append("  not in a plan milestone")
                else:
                    ms = status[group]
                    lines.append(f"  milestone {_clean(group)} ({_clean(ms.title)}, due {ms.due}): {ms.health.value}")
                    if ms.reasons:  # said once here, not on every line of the group
                        lines.append(f"    because: {_clean('; '.join(ms.reasons))}")
            item = reconciliation.items.get((change.tracker, change.item_id))
            title = _clean(item.title) if item else ""
            for sign, labels in (("+", change.add), ("-", change.remove)):
                for label in sorted(labels):
                    # the group's own health reason is said once under its header
                    why = _clean("; ".join(r.text for r in _reasons_for(label, sign, change.reasons)
                                           if group is None or r.code != "health" or r.milestone != group))
                    lines.append(f"    {sign} {_clean(label):<{label_width}}  {_clean(change.key):<{key_width}}  "
                                 f"[{change.cause or '?'}] {_shorten(title, 60)}" + (f"   ({why})" if why else ""))
        lines.append("")
    lines += _notes(plan)
    lines.append(plan.summary())
    lines.append(_guard(plan, max_share, min_guarded))
    return "\n".join(lines) + "\n"


def _guard(plan: ChangePlan, max_share: float, min_guarded: int) -> str:
    guarded = len(plan.guarded())
    line = guard_line(guarded, plan.covered, max_share=max_share, min_guarded=min_guarded)
    if plan.first_trackers:
        line += f" (first apply, not counted: {', '.join(sorted(plan.first_trackers))})"
    if breaches(guarded, plan.covered, max_share=max_share, min_guarded=min_guarded):
        groups = "; ".join(f"{_clean(text)} ({n})" for text, n in biggest_groups(plan, plan.guarded()))
        line += f"\napply would refuse this plan without --force; biggest: {groups}"
    return line


def _notes(plan: ChangePlan) -> list[str]:
    notes = [f"{_clean(tracker)}: adopting {count} item(s) already labelled by an earlier installation"
             for tracker, count in sorted(plan.adopted.items())]
    change = plan.prefix_change
    if change is not None:
        labels = ", ".join(f"{_clean(label)} ({n})" for label, n in change.labels.most_common(5))
        old = ", ".join(p if p == "an earlier prefix" else repr(p) for p in change.old)
        if change.migrating:
            notes.append(f"moving {change.items} item(s) from the old prefix {old} to {plan.prefix!r}: {labels}")
        else:
            notes.append(f"the owned prefix changed from {old} to {plan.prefix!r}: {change.items} item(s) still carry "
                         f"labels plansync wrote with the old one ({labels}); they are left untouched and no longer "
                         "owned (`apply --migrate-prefix` moves them)")
    held: dict[str, int] = {}
    for (tracker, _), why in plan.left_alone.items():
        held[f"{tracker}: {why}"] = held.get(f"{tracker}: {why}", 0) + 1
    notes += [f"held back: {n} change(s) on {_clean(what)}" for what, n in held.items()]
    return notes


def render_json(plan: ChangePlan, *, max_share: float = 0.30, min_guarded: int = 10,
                deferred: dict[str, int] | None = None) -> str:
    """The plan for machines: every change with its labels sorted and its cause, plus the guard's numbers."""
    guarded = len(plan.guarded())
    prefix = plan.prefix_change
    document = {
        "changes": [{"tracker": c.tracker, "item_id": c.item_id, "key": c.key,
                     "milestone": plan.milestones.get((c.tracker, c.item_id)), "cause": c.cause,
                     "add": sorted(c.add), "remove": sorted(c.remove), "reasons": [r.text for r in c.reasons]}
                    for c in plan.changes],
        "summary": {"labels_to_add": plan.labels_to_add, "labels_to_remove": plan.labels_to_remove,
                    "items_changed": len(plan.changes), "items_in_scope": plan.items_in_scope,
                    "items_labelled_now": plan.items_labelled_now, "share": round(plan.share, 6)},
        "guard": {"guarded": guarded, "covered": plan.covered, "max_share": max_share, "min_guarded": min_guarded,
                  "would_refuse": breaches(guarded, plan.covered, max_share=max_share, min_guarded=min_guarded),
                  "first_apply": sorted(plan.first_trackers),
                  "by_cause": {cause: sum(1 for c in plan.changes if c.cause == cause) for cause in CAUSES}},
        "adopted": dict(sorted(plan.adopted.items())),
        "prefix_change": None if prefix is None else {"old": list(prefix.old), "items": prefix.items,
                                                      "labels": dict(prefix.labels), "migrating": prefix.migrating},
        "held_back": len(plan.left_alone),
        "deferred": dict(sorted((deferred or {}).items())),  # per tracker: beyond one apply's write budget
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _reasons_for(label: str, sign: str, reasons: tuple[LabelReason, ...]) -> tuple[LabelReason, ...]:
    """The reasons that explain one label line: an added overdue flag by its overdue reason, others by the rest."""
    overdue = tuple(r for r in reasons if r.code == "overdue")
    rest = tuple(r for r in reasons if r.code != "overdue")
    if sign == "+" and label.endswith("overdue"):
        return overdue or reasons
    if sign == "-" and label.endswith("overdue") and not overdue and any(r.code in _STILL_LABELLED for r in rest):
        return (LabelReason("overdue", "no longer overdue"),) + rest
    return rest or reasons


def _clean(text: str) -> str:
    return _CONTROL.sub("\ufffd", text)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
