"""Hostile input files: random TOML-ish text and structured mutations of the shipped config, plan and
mappings, run through `plansync validate` in-process. Never a traceback; exit 0, or exit 2 with one line.

CI runs a few dozen examples per case; `make soak` (the `slow` mark) runs a thousand.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.harness import REPO, record, run_main

FILES = {"config": "config.toml", "plan": "plan.toml", "jira mapping": "mappings/jira.toml",
         "github mapping": "mappings/github.toml"}
FAST = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
SOAK = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))


# --- a small TOML writer for mutated documents (tomllib reads; nothing in the venv writes) -------------

def _key(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v) if v == v and v not in (float("inf"), float("-inf")) else ("nan" if v != v else
                                                                              ("inf" if v > 0 else "-inf"))
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def dump_toml(doc: dict, prefix: tuple[str, ...] = ()) -> str:
    scalars, tables, arrays = [], [], []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            arrays.append((k, v))
        else:
            scalars.append(f"{_key(k)} = {_value(v)}")
    out = "\n".join(scalars) + "\n"
    for k, v in tables:
        path = (*prefix, k)
        out += f"\n[{'.'.join(_key(p) for p in path)}]\n" + dump_toml(v, path)
    for k, items in arrays:
        path = (*prefix, k)
        for item in items:
            out += f"\n[[{'.'.join(_key(p) for p in path)}]]\n" + dump_toml(item, path)
    return out


# --- the base folder: the shipped examples, valid as shipped ----------------------------------------

@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shipped")
    shutil.copy(REPO / "config.example.toml", folder / "config.toml")
    shutil.copy(REPO / "examples" / "plan.toml", folder / "plan.toml")
    shutil.copytree(REPO / "mappings", folder / "mappings")
    result = _validate(folder)
    assert result.code == 0, f"the shipped examples must validate as shipped:\n{result}"
    return folder


def _validate(folder: Path):
    return run_main(["validate", "--config", str(folder / "config.toml"), "--plan", str(folder / "plan.toml")])


def _check(result, what: str, which: str, codes: list[int]) -> None:
    assert "Traceback" not in result.text, f"{what}\n{result}"
    assert result.code in (0, 2), f"{what}\n{result}"
    codes.append(result.code)
    if result.code == 2:
        errors = [line for line in result.err.splitlines() if line.strip()]
        assert len(errors) == 1 and errors[0].startswith("plansync: error:"), \
            f"{what}: expected one error line\n{result}"
        assert Path(FILES[which]).name in errors[0], f"{what}: the error must name the file\n{result}"


def _with(base: Path, which: str, text: str):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "f"
        shutil.copytree(base, folder)
        (folder / FILES[which]).write_text(text, errors="surrogatepass")
        return _validate(folder)


# --- strategies --------------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(['[', ']', '[[', ']]', '=', '"', "'", '"""', "\n", "[trackers.jira]", "kind = ",
                              "url = ", "1979-05-27", "true", "{", "}", ",", ".", "#", "\\u0000", "\\",
                              "[[milestones]]", "key = ", "scope", "tracker", "jql", "[status]", "0x1F",
                              "inf", "nan", "\t", "\x00", "é", "\u202e"])
toml_ish = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=12)), max_size=40).map("".join)

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
                    st.dates(), st.datetimes(), st.sampled_from(["", " ", "jira", "github", "plan:", "*",
                                                                 "../../etc/passwd", "x" * 5000]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=8)


def _paths(doc, prefix=()):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for n, v in enumerate(doc):
            yield (*prefix, n)
            yield from _paths(v, (*prefix, n))


@st.composite
def mutated(draw, text: str) -> str:
    doc = tomllib.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(values)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
        if not doc:
            break
    try:
        return dump_toml({k: v for k, v in doc.items() if v is not None})
    except TypeError:  # None inside lists: TOML has no null; write it as a bare word (a syntax error)
        return json.dumps(doc, default=str)


# --- the tests ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", list(FILES))
def test_random_toml_ish_text_is_exit_0_or_one_line(which, base):
    codes: list[int] = []

    @FAST
    @given(text=toml_ish)
    def run(text):
        _check(_with(base, which, text), f"{which} = {text!r}", which, codes)

    run()
    assert 2 in codes, "no example was rejected: the strategy proves nothing"
    record(f"fuzz: random TOML-ish {which}", "exit 0 or exit 2 with one line; no traceback", 0)


@pytest.mark.parametrize("which", list(FILES))
def test_mutated_shipped_files_are_exit_0_or_one_line(which, base):
    shipped = (base / FILES[which]).read_text()
    codes: list[int] = []

    @FAST
    @given(data=st.data())
    def run(data):
        text = data.draw(mutated(shipped))
        _check(_with(base, which, text), f"{which} mutated to:\n{text}", which, codes)

    run()
    assert 2 in codes, "no mutation was rejected: the strategy proves nothing"
    record(f"fuzz: structured mutations of the shipped {which}", "exit 0 or exit 2 with one line", 0)


@pytest.mark.slow
@pytest.mark.parametrize("which", list(FILES))
def test_fuzz_soak(which, base):
    shipped = (base / FILES[which]).read_text()

    @SOAK
    @given(text=st.one_of(toml_ish, mutated(shipped)))
    def run(text):
        _check(_with(base, which, text), f"{which}:\n{text}", which, [])

    run()


def test_the_writer_round_trips_the_shipped_files(base):
    """Guards the mutation strategy: unmutated, the rewritten files parse back to the same documents."""
    for name in FILES.values():
        doc = tomllib.loads((base / name).read_text())
        assert tomllib.loads(dump_toml(doc)) == doc, name
