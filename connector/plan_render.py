"""Renderers of a change plan, separate from its computation: text for people, JSON for machines."""

from __future__ import annotations

import json
import re

from connector.changes import ChangePlan
from connector.reconcile import Reconciliation
from connector.values import LabelReason

_STILL_LABELLED = ("health", "unplanned")  # reason codes of items that keep an owned label
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # tracker text is untrusted: no terminal escapes


def render_text(plan: ChangePlan, reconciliation: Reconciliation) -> str:
    """A readable diff grouped by tracker and milestone, one line per label added or removed."""
    if not plan.changes:
        return plan.summary() + "\n"
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
                                 f"{_shorten(title, 60)}" + (f"   ({why})" if why else ""))
        lines.append("")
    lines.append(plan.summary())
    return "\n".join(lines) + "\n"


def render_json(plan: ChangePlan) -> str:
    """The plan for machines: every change with its labels sorted, plus the counts the safety check uses."""
    document = {
        "changes": [{"tracker": c.tracker, "item_id": c.item_id, "key": c.key,
                     "milestone": plan.milestones.get((c.tracker, c.item_id)),
                     "add": sorted(c.add), "remove": sorted(c.remove), "reasons": [r.text for r in c.reasons]}
                    for c in plan.changes],
        "summary": {"labels_to_add": plan.labels_to_add, "labels_to_remove": plan.labels_to_remove,
                    "items_changed": len(plan.changes), "items_in_scope": plan.items_in_scope,
                    "items_labelled_now": plan.items_labelled_now, "share": round(plan.share, 6)},
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
