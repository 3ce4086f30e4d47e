"""The shape of the code, enforced: the pure layers import no HTTP stack, nothing outside the kind
packages (and the sandbox, which imitates the vendors) names a vendor in code, modules stay small,
and only cli.py prints."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "connector"
VENDOR = re.compile(r"jira|github|gitlab", re.IGNORECASE)
# where vendors are named by design: each kind's own package, the registry's list, the sandbox
VENDOR_HOMES = ("trackers/jira/", "trackers/github/", "trackers/gitlab/", "trackers/registry.py", "sandbox/")
PURE = ("connector.model", "connector.values", "connector.reconcile", "connector.findings", "connector.forecast",
        "connector.changes", "connector.plan_render", "connector.apply", "connector.pipeline", "connector.run",
        "connector.commands", "connector.settings", "connector.plan_file", "connector.store", "connector.report",
        "connector.trackers.registry")


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _code_names_and_strings(tree: ast.AST):
    """Identifiers, attribute names, imported modules and non-docstring string literals."""
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                yield node.lineno, alias.name
            if isinstance(node, ast.ImportFrom) and node.module:
                yield node.lineno, node.module
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_pure_layers_import_no_http_stack():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in PURE)
            + "from connector.trackers import registry\nregistry.kinds()\n"
            + "print(sorted(m for m in ('requests', 'urllib3', 'jira', 'github', 'gitlab') if m in sys.modules))")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert found.stdout.strip() == "[]", found.stdout + found.stderr


def test_no_vendor_is_named_in_code_outside_the_kind_packages():
    offences = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith(VENDOR_HOMES):
            continue
        for line, text in _code_names_and_strings(ast.parse(path.read_text())):
            if VENDOR.search(text):
                offences.append(f"connector/{rel}:{line}: {text[:60]!r}")
    assert offences == []


def test_modules_stay_small():
    too_long = {p.relative_to(REPO).as_posix(): n for p in _modules()
                if (n := len(p.read_text().splitlines())) > 420}
    assert too_long == {}


def test_only_the_cli_prints():
    printing = []
    for path in _modules():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                printing.append(f"connector/{rel}:{node.lineno}")
    assert printing == []
