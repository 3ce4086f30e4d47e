"""A small JQL parser and evaluator (recursive descent over tokens; no eval).

Offset-less date literals are read in the searching user's timezone, as Jira does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .generator import JIRA_STATUSES
from .state import JiraIssue, State

OPERATORS_MSG = ("The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
                 "'IS' and 'IS NOT'.")
TOKEN = re.compile(r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|[=<>~(),])
                    |(?P<word>[^\s"'=!<>~(),]+))""", re.X)
CATEGORY_NAMES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
DATE_FIELDS = {"updated", "updateddate", "created", "createddate", "resolved", "resolutiondate", "duedate", "due"}
FIELDS = {"project", "key", "issuekey", "id", "issuetype", "type", "fixversion", "labels", "status",
          "statuscategory", "sprint", "parent", "epic link", "assignee", "reporter", "summary", "text",
          "resolution", "description"} | DATE_FIELDS
RELATIVE = re.compile(r"^([-+]?)(\d+)([wdhm])$", re.I)
UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}


class JQLError(ValueError):
    """Bad JQL; the message is the one Jira puts in errorMessages."""


@dataclass
class Token:
    kind: str  # str | op | word
    text: str
    pos: int


@dataclass
class Context:
    state: State
    tz: ZoneInfo
    now: float
    user: int  # person index of the searching user


def tokenize(jql: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(jql):
        if jql[pos:].strip() == "":
            break
        m = TOKEN.match(jql, pos)
        if not m:
            raise JQLError(f"Error in the JQL Query: The character '{jql[pos]}' is a reserved JQL character. "
                           f"You must enclose it in a string or use the escape '\\u{ord(jql[pos]):04x}' instead. "
                           f"(line 1, character {pos + 1})")
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "str":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(Token(kind, text, m.start(kind) + 1))
        pos = m.end()
    return tokens


class Parser:
    def __init__(self, jql: str, ctx: Context):
        self.toks = tokenize(jql)
        self.i = 0
        self.ctx = ctx

    def peek(self, upper: bool = True) -> str | None:
        if self.i >= len(self.toks):
            return None
        t = self.toks[self.i]
        return t.text.upper() if upper and t.kind != "str" else t.text

    def is_kw(self, *words: str) -> bool:
        return self.i < len(self.toks) and self.toks[self.i].kind == "word" and self.peek() in words

    def take(self) -> Token:
        if self.i >= len(self.toks):
            raise JQLError("Error in the JQL Query: Expecting either a value, list or function but got "
                           "end of query.")
        self.i += 1
        return self.toks[self.i - 1]

    def fail(self, expected: str) -> JQLError:
        t = self.toks[self.i] if self.i < len(self.toks) else None
        got = f"'{t.text}'" if t else "end of query"
        where = f" (line 1, character {t.pos})" if t else ""
        return JQLError(f"Error in the JQL Query: Expecting {expected} but got {got}.{where}")

    def parse(self):
        pred = None
        if self.toks and not self.is_kw("ORDER"):
            pred = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.is_kw("ORDER"):
            self.take()
            if not self.is_kw("BY"):
                raise self.fail("'BY'")
            self.take()
            while True:
                fld = self.take().text.lower()
                desc = False
                if self.is_kw("ASC", "DESC"):
                    desc = self.take().text.upper() == "DESC"
                order.append((fld, desc))
                if self.peek() == ",":
                    self.take()
                    continue
                break
        if self.i < len(self.toks):
            raise self.fail("either 'OR' or 'AND'" if pred else "a field name")
        return pred, order

    def or_expr(self):
        parts = [self.and_expr()]
        while self.is_kw("OR"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda i, ps=tuple(parts): any(p(i) for p in ps))

    def and_expr(self):
        parts = [self.not_expr()]
        while self.is_kw("AND"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda i, ps=tuple(parts): all(p(i) for p in ps))

    def not_expr(self):
        if self.is_kw("NOT"):
            self.take()
            inner = self.not_expr()
            return lambda i: not inner(i)
        if self.peek() == "(":
            self.take()
            inner = self.or_expr()
            if self.peek() != ")":
                raise self.fail("')'")
            self.take()
            return inner
        return self.clause()

    def clause(self):
        if self.i >= len(self.toks):
            raise self.fail("a field name")
        ftok = self.take()
        fname = ftok.text.lower()
        if fname.startswith("cf[10014]"):
            fname = "epic link"
        if fname not in FIELDS:
            raise JQLError(f"Field '{ftok.text}' does not exist or you do not have permission to view it.")
        op = self.operator()
        if op in ("IS", "IS NOT"):
            if not self.is_kw("EMPTY", "NULL"):
                raise self.fail("'EMPTY' or 'NULL'")
            self.take()
            getter = getter_for(fname, self.ctx)
            return (lambda i: not getter(i)) if op == "IS" else (lambda i: bool(getter(i)))
        if op in ("IN", "NOT IN"):
            if (self.peek() != "(" and self.i + 1 < len(self.toks) and self.toks[self.i].kind == "word"
                    and self.toks[self.i + 1].text == "("):
                return build_clause(fname, op, self.value(fname), self.ctx)
            if self.peek() != "(":
                raise self.fail("'('")
            self.take()
            values = []
            while True:
                values.extend(self.value(fname))
                if self.peek() == ",":
                    self.take()
                    continue
                if self.peek() == ")":
                    self.take()
                    break
                raise self.fail("')'")
        else:
            values = self.value(fname)
        return build_clause(fname, op, values, self.ctx)

    def operator(self) -> str:
        t = self.toks[self.i] if self.i < len(self.toks) else None
        if t and t.kind == "op" and t.text in ("=", "!=", "<", ">", "<=", ">=", "~", "!~"):
            self.i += 1
            return t.text
        if self.is_kw("IN"):
            return self.take().text.upper()
        if self.is_kw("IS"):
            self.take()
            if self.is_kw("NOT"):
                self.take()
                return "IS NOT"
            return "IS"
        if self.is_kw("NOT"):
            self.take()
            if self.is_kw("IN"):
                self.take()
                return "NOT IN"
        raise JQLError(self.fail("operator").args[0] + " " + OPERATORS_MSG)

    def value(self, fname: str) -> list:
        t = self.take()
        if t.kind == "op":
            self.i -= 1
            raise self.fail("either a value, list or function")
        text = t.text
        if t.kind == "word" and self.peek() == "(":
            self.take()
            args = []
            while self.peek() != ")":
                tok = self.take()
                if tok.text != ",":
                    args.append(tok.text)
                if self.i >= len(self.toks):
                    raise self.fail("')'")
            self.take()
            return function_value(text, self.ctx, args)
        if t.kind == "word" and text.upper() in ("EMPTY", "NULL"):
            return [None]
        # An unquoted `2026-11-20 10:00` arrives as two words; join them like Jira's lexer does.
        if (fname in DATE_FIELDS and re.fullmatch(r"\d{4}[-/]\d\d[-/]\d\d", text)
                and self.i < len(self.toks) and re.fullmatch(r"\d\d:\d\d", self.toks[self.i].text)):
            text += " " + self.take().text
        if fname in DATE_FIELDS:
            return [parse_date(text, self.ctx)]
        return [text]


def parse_date(text: str, ctx: Context) -> float:
    m = RELATIVE.match(text.strip())
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return ctx.now + sign * int(m.group(2)) * UNITS[m.group(3).lower()]
    if re.fullmatch(r"\d{9,}", text):
        return int(text) / 1000.0
    for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=ctx.tz).timestamp()
        except ValueError:
            continue
    raise JQLError(f"Date value '{text}' for field 'updated' is invalid. Valid formats include: "
                   "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
                   "e.g. '-5d', '4w 2d'.")


def _shift(args: list[str]) -> timedelta:
    """startOfDay(-1), startOfWeek("+2w"): an offset in the function's own unit unless one is given."""
    if not args:
        return timedelta(0)
    m = RELATIVE.match(args[0].strip())
    if m:
        sign = -1 if m.group(1) == "-" else 1
        return timedelta(seconds=sign * int(m.group(2)) * UNITS[m.group(3).lower()])
    try:
        return timedelta(days=int(args[0]))
    except ValueError:
        raise JQLError(f"Invalid offset '{args[0]}'.") from None


def function_value(name: str, ctx: Context, args: list[str] | None = None) -> list:
    n = name.lower()
    args = args or []
    local = datetime.fromtimestamp(ctx.now, ctx.tz)
    if n == "currentuser":
        return [ctx.state.people[ctx.user]["jira_account_id"]]
    if n == "now":
        return [ctx.now]
    if n in ("startofday", "endofday"):
        start = local.replace(hour=0, minute=0, second=0, microsecond=0) + _shift(args)
        return [(start if n == "startofday" else start + timedelta(days=1)).timestamp()]
    if n in ("startofweek", "endofweek"):
        # Jira's week starts on Sunday for the default locale.
        start = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=(local.weekday() + 1) % 7)
        if args:
            shift = _shift(args)
            start += shift * 7 if RELATIVE.match(args[0].strip()) is None else shift
        return [(start if n == "startofweek" else start + timedelta(days=7)).timestamp()]
    if n in ("releasedversions", "unreleasedversions"):
        released = n == "releasedversions"
        wanted = [v for v in ctx.state.versions.values() if v["released"] is released
                  and (not args or v["project"] in {a.upper() for a in args})]
        return [str(v["id"]) for v in wanted]
    if n in ("opensprints", "closedsprints"):
        want = ("active", "future") if n == "opensprints" else ("closed",)
        return [str(s["id"]) for s in ctx.state.sprints.values() if s["state"] in want]
    raise JQLError(f"Unable to find JQL function '{name}()'.")


def getter_for(fname: str, ctx: Context):
    st = ctx.state

    def person(idx):
        if idx is None:
            return []
        p = st.people[idx]
        return [p["jira_account_id"], p["email"], p["display_name"], p["key"]]

    def date_ts(d):
        return datetime.strptime(d, "%Y-%m-%d").replace(tzinfo=ctx.tz).timestamp() if d else None

    table = {
        "project": lambda i: [i.project, st.projects[i.project]["id"], st.projects[i.project]["name"]],
        "key": lambda i: [i.key, *i.old_keys], "issuekey": lambda i: [i.key, *i.old_keys],
        "id": lambda i: [str(i.id)],
        "issuetype": lambda i: [i.issuetype], "type": lambda i: [i.issuetype],
        "fixversion": lambda i: [x for v in i.fix_versions for x in (st.versions[v]["name"], str(v))],
        "labels": lambda i: list(i.labels),
        "status": lambda i: [i.status, JIRA_STATUSES[i.status][0]],
        "statuscategory": lambda i: [JIRA_STATUSES[i.status][1], CATEGORY_NAMES[JIRA_STATUSES[i.status][1]]],
        "sprint": lambda i: [x for s in i.sprints for x in (st.sprints[s]["name"], str(s))],
        "parent": lambda i: _parent_refs(st, i), "epic link": lambda i: _parent_refs(st, i),
        "assignee": lambda i: person(i.assignee), "reporter": lambda i: person(i.reporter),
        "resolution": lambda i: [i.resolution] if i.resolution else [],
        "summary": lambda i: [i.summary], "description": lambda i: [i.description],
        "text": lambda i: [i.summary, i.description],
        "updated": lambda i: [i.updated], "updateddate": lambda i: [i.updated],
        "created": lambda i: [i.created], "createddate": lambda i: [i.created],
        "resolved": lambda i: [i.resolved] if i.resolved else [],
        "resolutiondate": lambda i: [i.resolved] if i.resolved else [],
        "duedate": lambda i: [date_ts(i.duedate)] if i.duedate else [],
        "due": lambda i: [date_ts(i.duedate)] if i.duedate else [],
    }
    return table[fname]


def _parent_refs(st: State, issue: JiraIssue) -> list[str]:
    if issue.parent is None:
        return []
    p = st.jira_issues[issue.parent]
    return [p.key, str(p.id)]


def build_clause(fname: str, op: str, values: list, ctx: Context):
    getter = getter_for(fname, ctx)
    if fname == "project":
        known = {x.lower() for p in ctx.state.projects.values() for x in (p["key"], p["id"], p["name"])}
        for v in values:
            if v is not None and str(v).lower() not in known:
                raise JQLError(f"The value '{v}' does not exist for the field 'project'.")
    if fname == "parent":  # Jira's own answer for a parent it does not know
        for v in values:
            if v is not None and ctx.state.jira_by_key(str(v)) is None:
                raise JQLError(f"An issue with key '{v}' does not exist for field 'parent'.")
    if fname in DATE_FIELDS:
        cmp = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
               ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
        if op in ("IN", "NOT IN"):
            wanted = set(values)
            return (lambda i: any(x in wanted for x in getter(i))) if op == "IN" else (
                lambda i: bool(getter(i)) and not any(x in wanted for x in getter(i)))
        if op not in cmp:
            raise JQLError(f"The operator '{op}' is not supported by the '{fname}' field.")
        f, v = cmp[op], values[0]
        if v is None:
            return (lambda i: not getter(i)) if op == "=" else (lambda i: bool(getter(i)))
        return lambda i: any(f(x, v) for x in getter(i))
    if op in ("~", "!~"):
        needle = str(values[0]).lower().strip("*")
        def hit(i):
            return any(needle in str(x).lower() for x in getter(i))
        return hit if op == "~" else (lambda i: not hit(i))
    if op in ("<", ">", "<=", ">="):
        raise JQLError(f"The operator '{op}' is not supported by the '{fname}' field.")
    if fname == "resolution":  # "Unresolved" is Jira's name for an empty resolution
        values = [None if str(v).lower() == "unresolved" else v for v in values]
    wanted = {str(v).lower() for v in values if v is not None}
    empty_ok = None in values

    def matches(i):
        got = getter(i)
        return (empty_ok and not got) or any(str(x).lower() in wanted for x in got)

    if op in ("=", "IN"):
        return matches
    # Jira's != and NOT IN never match an empty field.
    return lambda i: bool(getter(i)) and not matches(i)


def sort_key(field_name: str, ctx: Context):
    if field_name in ("key", "issuekey"):
        return lambda i: (i.project, int(i.key.rsplit("-", 1)[1]))
    if field_name in ("id",):
        return lambda i: i.id
    if field_name in ("status",):
        return lambda i: i.status
    if field_name in DATE_FIELDS:
        g = getter_for(field_name, ctx)
        return lambda i: (g(i) or [0.0])[0] or 0.0
    if field_name in ("rank", "priority"):
        return lambda i: i.id
    raise JQLError(f"Field '{field_name}' does not exist or you do not have permission to view it.")


def evaluate(jql: str, ctx: Context, issues) -> list[JiraIssue]:
    """Return the matching issues in JQL order (id ascending when no ORDER BY is given)."""
    pred, order = Parser(jql, ctx).parse()
    result = [i for i in issues if pred is None or pred(i)]
    result.sort(key=lambda i: i.id)
    for fname, desc in reversed(order):
        result.sort(key=sort_key(fname, ctx), reverse=desc)
    return result


def is_unbounded(jql: str, ctx: Context) -> bool:
    pred, _ = Parser(jql, ctx).parse()
    return pred is None
