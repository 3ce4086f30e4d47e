"""deploy/Dockerfile, the root .dockerignore and deploy/docker-compose.yml, parsed and checked.

No Docker engine runs here, so the image is checked by reading the Dockerfile, not by building it.
"""

from __future__ import annotations

import fnmatch
import re

from tests.deploy.commands import REPO
from tests.deploy.files import (
    COMPOSE,
    DOCKERFILE,
    Instruction,
    dockerfile_env,
    final_stage,
    load_compose,
    parse_dockerfile,
)

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY", re.IGNORECASE)
KNOWN_INSTRUCTIONS = {"FROM", "RUN", "COPY", "ADD", "ENV", "ARG", "LABEL", "USER", "WORKDIR", "VOLUME",
                      "ENTRYPOINT", "CMD", "EXPOSE", "HEALTHCHECK", "SHELL", "STOPSIGNAL", "ONBUILD"}


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            excluded = not negated
    return excluded


def ignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def copy_sources(instructions: list[Instruction]) -> list[str]:
    sources = []
    for ins in instructions:
        if ins.keyword == "COPY" and "--from=" not in ins.value:
            tokens = ins.value.split()
            sources += [t for t in tokens[:-1] if not t.startswith("--")]
    return sources


def test_the_dockerfile_parses_into_known_instructions():
    instructions = parse_dockerfile()
    assert {ins.keyword for ins in instructions} <= KNOWN_INSTRUCTIONS
    bases = [ins.value.split()[0] for ins in instructions if ins.keyword == "FROM"]
    assert bases and all(base == "python:3.11-slim" for base in bases)
    assert not [ins for ins in instructions if ins.keyword == "ADD"]  # COPY only: no remote fetches


def test_the_image_runs_as_a_non_root_user_with_plansync_as_entrypoint():
    stage = final_stage(parse_dockerfile())
    users = [ins.value for ins in stage if ins.keyword == "USER"]
    assert users, "the final stage must switch to a non-root user"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0") and user.isdigit(), "numeric, so Kubernetes runAsNonRoot can verify it"
    assert stage.index([i for i in stage if i.keyword == "USER"][-1]) > max(
        stage.index(i) for i in stage if i.keyword == "RUN"), "no RUN after USER may need root"
    assert [i for i in stage if i.keyword == "ENTRYPOINT"][-1].exec_form() == ["plansync"]
    assert [i for i in stage if i.keyword == "CMD"][-1].exec_form() == ["run"]


def test_config_plan_and_store_locations():
    stage = final_stage(parse_dockerfile())
    env = dockerfile_env(stage)
    assert env["PLANSYNC_CONFIG"] == "/etc/plansync/config.toml"
    assert env["PLANSYNC_PLAN"] == "/etc/plansync/plan.toml"
    assert env["PLANSYNC_REPORT__OUT_DIR"] == "/var/lib/plansync/reports"
    assert env["PLANSYNC_STORE__URL"].startswith("sqlite:////var/lib/plansync/")
    volumes = [ins.value for ins in stage if ins.keyword == "VOLUME"]
    assert volumes and "/var/lib/plansync" in volumes[-1]
    assert "/opt/plansync/bin" in env["PATH"]


def test_the_package_and_its_shipped_mappings_are_installed():
    instructions = parse_dockerfile()
    runs = " ".join(ins.value for ins in instructions if ins.keyword == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs)
    assert "connector.mapping" in runs and "SHIPPED" in runs  # the build checks the mappings were installed
    sources = copy_sources(instructions)
    assert "connector/mappings" in sources and "deploy/bin/plansync-job" in sources


def test_no_secret_is_baked_into_the_image():
    instructions = parse_dockerfile()
    for ins in instructions:
        if ins.keyword in ("ENV", "ARG"):
            names = [t.partition("=")[0] for t in ins.value.split()]
            assert not [n for n in names if SECRET_NAME.search(n)], f"Dockerfile:{ins.line}: {ins.value}"
    assert not any(s.endswith((".env", "config.toml")) for s in copy_sources(instructions))


def test_every_copied_path_exists_and_survives_dockerignore():
    patterns = ignore_patterns()
    for source in copy_sources(parse_dockerfile()):
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        assert not dockerignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
        assert not dockerignored(f"{source}/x.py" if (REPO / source).is_dir() else source, patterns)


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_context():
    patterns = ignore_patterns()
    for path in (".venv/bin/python", ".git/config", "plansync.db", "config.toml", ".env", "demo/report.html",
                 "tests/conftest.py", "connector/__pycache__/cli.cpython-311.pyc", "deploy/kubernetes/kustomization.yaml"):
        assert dockerignored(path, patterns), path
    for path in ("connector/cli.py", "pyproject.toml", "connector/mappings/jira.toml"):
        assert not dockerignored(path, patterns), path


def test_compose_runs_the_multi_job_setup_against_postgres():
    compose = load_compose()
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["image"] == "postgres:16"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    ours = {name: s for name, s in services.items() if "build" in s}
    assert set(ours) == {"sync-jira", "sync-github", "apply", "report", "plansync"}
    for service in ours.values():
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert (COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == DOCKERFILE
        env = service["environment"]
        assert env["PLANSYNC_STORE__URL"] == "postgresql+psycopg://plansync@postgres/plansync"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert any(v.endswith(":/etc/plansync:ro") for v in service["volumes"])
        assert service["read_only"] is True
    # the jobs run in order: both pulls, then apply, then the report
    assert services["apply"]["depends_on"]["sync-jira"]["condition"] == "service_completed_successfully"
    assert services["apply"]["depends_on"]["sync-github"]["condition"] == "service_completed_successfully"
    assert services["report"]["depends_on"]["apply"]["condition"] == "service_completed_successfully"
    assert {"postgres-data", "plansync-data"} <= set(compose["volumes"])


def test_compose_takes_every_secret_from_the_environment():
    for name, service in load_compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key) or key == "PGPASSWORD":
                # pass-through (no value), deliberately empty, or interpolated from the shell: never a literal
                assert value in (None, "") or re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", value), f"{name}: {key}"
    default_config = next(v for v in load_compose()["services"]["sync-jira"]["volumes"] if "/etc/plansync" in v)
    folder = re.search(r":-([^}]+)\}", default_config).group(1)
    assert (COMPOSE.parent / folder / "config.toml").is_file()  # the default config folder exists
