"""The Kubernetes manifests under deploy/ are valid and deploy what the app needs.

Offline: kubernetes-validate ships the API schemas, pinned to KUBERNETES_VERSION, and the
strict schemas refuse unknown fields (a typo'd `readinesProbe` would be silently dropped
by some tools and leave the api without a readiness probe).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as kubernetes_validate

from app.serving import UVICORN_FLAGS
from app.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ENTRYPOINT = DEPLOY.parent / "docker" / "entrypoint.sh"
KUBERNETES_VERSION = "1.32.0"  # the oldest cluster the manifests must run on
SECRET_NAME = "pec-renewal-secrets"
CONFIG_NAME = "pec-renewal-config"
SECRET_LIKE = re.compile(r"SECRET|PASSWORD|TOKEN|KEY|USERNAME|DATABASE_URL")

Manifest = dict[str, Any]


def manifest_files() -> list[Path]:
    return sorted(p for p in DEPLOY.glob("*.yaml") if p.name != "kustomization.yaml")


def load(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifests() -> list[Manifest]:
    return [doc for path in manifest_files() for doc in load(path)]


def kustomization() -> Manifest:
    loaded: Manifest = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    return loaded


def named(kind: str, name: str) -> Manifest:
    found = [m for m in manifests() if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_specs() -> Iterator[tuple[str, Manifest]]:
    for m in manifests():
        if m["kind"] in {"Deployment", "Job"}:
            yield f"{m['kind']}/{m['metadata']['name']}", m["spec"]["template"]["spec"]


def containers() -> Iterator[tuple[str, Manifest]]:
    for where, spec in pod_specs():
        for container in spec.get("initContainers", []) + spec["containers"]:
            yield f"{where}/{container['name']}", container


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def entrypoint_variables() -> set[str]:
    """Variables docker/entrypoint.sh reads itself (PORT, FORWARDED_ALLOW_IPS)."""
    return set(re.findall(r"\$\{([A-Z_]+):-", ENTRYPOINT.read_text()))


def validation_error(manifest: Manifest) -> str | None:
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        path = ".".join(str(part) for part in error.path)
        return f"{manifest['kind']}/{manifest['metadata']['name']}: {path}: {error.message}"
    return None


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(path: Path) -> None:
    documents = load(path)
    assert documents, f"{path.name} is empty"
    assert [validation_error(m) for m in documents] == [None] * len(documents)


def test_a_typo_in_a_field_name_fails_validation() -> None:
    api = named("Deployment", "pec-renewal-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    assert validation_error(api) is not None


def test_the_kustomization_lists_every_manifest_and_sets_the_one_image() -> None:
    k = kustomization()
    assert sorted(k["resources"]) == sorted(p.name for p in manifest_files())
    images = {c["image"] for _, c in containers()}
    assert images == {"pec-renewal"}  # api, worker and migrate run the same image
    assert [image["name"] for image in k["images"]] == ["pec-renewal"]


def test_the_deployments_have_resources_and_the_servers_have_probes() -> None:
    for where, container in containers():
        resources = container["resources"]
        assert {"cpu", "memory"} <= resources["requests"].keys(), where
        assert "memory" in resources["limits"], where
        if container.get("ports"):  # serves HTTP: the orchestrator must know when it can
            probes = {"startupProbe", "livenessProbe", "readinessProbe"}
            assert probes <= container.keys(), where
    worker = named("Deployment", "pec-renewal-worker")
    assert worker["spec"]["replicas"] >= 2  # safe with N copies (operations.md)


def test_the_api_probes_hit_healthz_and_readyz_on_its_port() -> None:
    api = named("Deployment", "pec-renewal-api")
    pod = api["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    (port,) = container["ports"]
    http_ports = {port["name"], port["containerPort"]}
    paths = {
        probe: (container[probe]["httpGet"]["path"], container[probe]["httpGet"]["port"])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert {probe: path for probe, (path, _) in paths.items()} == {
        "startupProbe": "/healthz",
        "livenessProbe": "/healthz",
        "readinessProbe": "/readyz",
    }
    assert all(probe_port in http_ports for _, probe_port in paths.values())
    # /readyz answers within 2 s: a shorter timeout would take healthy copies out.
    assert container["readinessProbe"]["timeoutSeconds"] >= 2
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env.get("PORT", "8000") == str(port["containerPort"])
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(port["containerPort"])
    service = named("Service", "pec-renewal-api")
    assert service["spec"]["selector"] == api["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] in http_ports


def test_the_api_scales_and_survives_a_drain() -> None:
    api = named("Deployment", "pec-renewal-api")
    hpa = named("HorizontalPodAutoscaler", "pec-renewal-api")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == api["metadata"]["name"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]
    pdb = named("PodDisruptionBudget", "pec-renewal-api")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"] == api["spec"]["selector"]


def test_pods_run_as_a_non_root_user_on_a_read_only_root() -> None:
    for where, spec in pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["runAsUser"] != 0, where
    for where, container in containers():
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, where
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, where


def test_the_migrate_job_runs_alembic_once_and_cleans_up() -> None:
    job = named("Job", "pec-renewal-migrate")
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    assert "exec alembic upgrade head" in ENTRYPOINT.read_text().split("migrate)")[1]


def test_the_api_container_serves_with_the_loop_and_flags_the_bench_measured() -> None:
    # `make bench`, `make run` and `make scale` take them from app/serving.py; the image's
    # shell entrypoint spells them out, so a drift would ship an unmeasured server.
    api = ENTRYPOINT.read_text().split("api)")[1].split(";;")[0].replace("\\\n", " ")
    command = " ".join(api.split())
    assert "exec uvicorn app.main:create_app --factory" in command
    assert " ".join(UVICORN_FLAGS) in command


def test_every_variable_set_is_a_setting_and_every_secret_a_reference() -> None:
    known = setting_names() | entrypoint_variables()
    config = named("ConfigMap", CONFIG_NAME)
    assert set(config["data"]) - setting_names() == set()
    assert [name for name in config["data"] if SECRET_LIKE.search(name)] == []
    for where, container in containers():
        for source in container.get("envFrom", []):
            assert source == {"configMapRef": {"name": CONFIG_NAME}}, where
        for variable in container.get("env", []):
            name = variable["name"]
            assert name in known, f"{where}: {name} is no setting"
            if "value" in variable:  # literals only for what is no secret
                assert not SECRET_LIKE.search(name), f"{where}: {name} is a literal"
            else:
                ref = variable["valueFrom"]["secretKeyRef"]
                assert (ref["name"], ref["key"]) == (SECRET_NAME, name), where
    assert all(m["kind"] != "Secret" for m in manifests())  # values never in the repo


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_valid_manifests_with_the_release_image() -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(DEPLOY)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    documents = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert len(documents) == len(manifests())
    assert [validation_error(m) for m in documents] == [None] * len(documents)
    image = kustomization()["images"][0]
    released = f"{image['newName']}:{image['newTag']}"
    assert {
        c["image"]
        for m in documents
        if m["kind"] in {"Deployment", "Job"}
        for c in m["spec"]["template"]["spec"]["containers"]
    } == {released}
