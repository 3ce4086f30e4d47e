"""deploy/kubernetes: every manifest validated against the Kubernetes schemas, and wired together."""

from __future__ import annotations

import os

import kubernetes_validate
import pytest
import yaml

from connector.run import load_inputs
from tests.deploy.commands import REPO
from tests.deploy.files import KUBERNETES, kubernetes_documents, load_kustomization, pod_specs, rel

# the oldest release we support (podFailurePolicy is GA from 1.31, served by batch/v1 since 1.26) and the newest shipped
VERSIONS = ("1.30", kubernetes_validate.latest_version())


def generated_config_map() -> dict:
    """The ConfigMap kustomize's configMapGenerator makes (kustomize itself is not needed to check it)."""
    generator = load_kustomization()["configMapGenerator"][0]
    data = {}
    for entry in generator["files"]:
        key, _, source = entry.partition("=")
        data[key] = (KUBERNETES / source).read_text()
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}


def test_every_manifest_is_a_valid_kubernetes_object():
    docs = kubernetes_documents() + [(KUBERNETES / "kustomization.yaml", generated_config_map())]
    kinds = sorted(doc["kind"] for _, doc in docs)
    assert kinds == ["ConfigMap", "CronJob", "CronJob", "CronJob", "CronJob", "Namespace",
                     "PersistentVolumeClaim", "Secret", "Secret", "ServiceAccount"]
    for path, doc in docs:
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{rel(path)} {doc['kind']}/{doc['metadata']['name']} on {version}: {exc.message}")


def test_the_validator_catches_a_misspelt_field():
    """strict=True must reject unknown fields, or the test above would pass on typos."""
    _, cronjob, _ = pod_specs()[0]
    broken = yaml.safe_load(yaml.safe_dump(cronjob))
    broken["spec"]["concurencyPolicy"] = broken["spec"].pop("concurrencyPolicy")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_the_kustomization_lists_every_manifest_except_the_example_secrets():
    kustomization = load_kustomization()
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk - {"secrets.example.yaml"}
    assert kustomization["namespace"] == "plansync"
    assert [image["name"] for image in kustomization["images"]] == ["plansync"]
    assert all(container["image"] == "plansync" for _, _, spec in pod_specs() for container in spec["containers"])


def test_cronjobs_are_safe_to_run_forever():
    names = set()
    for path, cronjob, pod in pod_specs():
        names.add(cronjob["metadata"]["name"])
        spec, job = cronjob["spec"], cronjob["spec"]["jobTemplate"]["spec"]
        where = rel(path)
        assert spec["concurrencyPolicy"] == "Forbid", where
        assert 0 < spec["startingDeadlineSeconds"] <= 600, where
        assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1, where
        # podFailurePolicy is only allowed with restartPolicy Never (the API server rejects it otherwise)
        assert pod["restartPolicy"] == "Never", where
        rules = job["podFailurePolicy"]["rules"]
        fail_fast = [r for r in rules if r["action"] == "FailJob"]
        assert fail_fast and fail_fast[0]["onExitCodes"] == {"operator": "In", "values": [2]}, where
        # exit 4 must never be counted as a failure: plansync-job turns it into 0 before Kubernetes sees it
        assert not any(4 in r.get("onExitCodes", {}).get("values", []) for r in rules), where
        assert pod["automountServiceAccountToken"] is False and pod["serviceAccountName"] == "plansync", where
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, where
        for container in pod["containers"]:
            assert container["command"] == ["plansync-job"], where
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, where
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"], where
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert {"/etc/plansync", "/tmp"} <= mounts, where  # config, and somewhere writable for matplotlib
    assert names == {"plansync-sync-jira", "plansync-sync-github", "plansync-apply", "plansync-report"}


def test_every_reference_points_at_something_that_exists():
    config_map = generated_config_map()
    objects = {(doc["kind"], doc["metadata"]["name"]): doc for _, doc in kubernetes_documents()}
    secrets = {name: doc["stringData"] for (kind, name), doc in objects.items() if kind == "Secret"}
    for path, _, pod in pod_specs():
        assert ("ServiceAccount", pod["serviceAccountName"]) in objects
        volumes = {v["name"]: v for v in pod["volumes"]}
        for container in pod["containers"]:
            for mount in container["volumeMounts"]:
                assert mount["name"] in volumes, f"{rel(path)}: mount {mount['name']} has no volume"
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]], f"{rel(path)}: {ref} not in secrets.example.yaml"
        for volume in volumes.values():
            if "configMap" in volume:
                assert volume["configMap"]["name"] == config_map["metadata"]["name"]
                assert {i["key"] for i in volume["configMap"]["items"]} == set(config_map["data"])
            if "persistentVolumeClaim" in volume:
                assert ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"]) in objects


def test_each_job_gets_only_the_tokens_it_needs():
    expected = {"plansync-sync-jira": {"JIRA_API_TOKEN"}, "plansync-sync-github": {"GITHUB_TOKEN"},
                "plansync-apply": {"JIRA_API_TOKEN", "GITHUB_TOKEN"}, "plansync-report": set()}
    for path, cronjob, pod in pod_specs():
        env = [e for c in pod["containers"] for e in c.get("env", [])]
        tokens = {e["name"] for e in env if e["name"].endswith("TOKEN")}
        assert tokens == expected[cronjob["metadata"]["name"]], rel(path)
        assert all("value" not in e for e in env if e["name"].endswith("TOKEN") or "STORE" in e["name"])
        assert {e["name"] for e in env if e["valueFrom"]["secretKeyRef"]["name"] == "plansync-store"} \
            == {"PLANSYNC_STORE__URL"}


def test_only_the_report_job_mounts_the_reports_volume_where_reports_are_written():
    config = generated_config_map()["data"]["config.toml"]
    assert 'out_dir = "/var/lib/plansync/reports"' in config
    for _, cronjob, pod in pod_specs():
        claims = [v for v in pod["volumes"] if "persistentVolumeClaim" in v]
        if cronjob["metadata"]["name"] == "plansync-report":
            mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
            assert mounts[claims[0]["name"]] == "/var/lib/plansync/reports"
        else:
            assert not claims  # ReadWriteOnce: one job may hold it


def test_the_configmap_files_load_with_the_real_loaders(monkeypatch):
    """What the pods mount is a valid config, plan and mapping set (before any network call)."""
    monkeypatch.setenv("PLANSYNC_STORE__URL", "postgresql+psycopg://plansync@db.example.internal/plansync")
    settings, mappings, declared = load_inputs(KUBERNETES / "config" / "config.toml",
                                               KUBERNETES / "config" / "plan.toml")
    assert settings.store.url == os.environ["PLANSYNC_STORE__URL"]  # the Secret wins over the file
    assert set(settings.trackers) == {"jira", "github"} == set(mappings)
    assert declared.milestones
    # the mapping copies start out as the shipped defaults
    for name in ("jira", "github"):
        assert (KUBERNETES / "config" / "mappings" / f"{name}.toml").read_text() \
            == (REPO / "mappings" / f"{name}.toml").read_text()
    # and the config names its tokens by variable, the same names the Secret refs fill
    assert {t.token_env for t in settings.trackers.values()} == {"JIRA_API_TOKEN", "GITHUB_TOKEN"}


def test_the_example_secrets_hold_placeholders_only():
    for _, doc in kubernetes_documents():
        if doc["kind"] == "Secret":
            assert "data" not in doc
            assert all("REPLACE_ME" in value for value in doc["stringData"].values())
