"""deploy/k8s, checked offline since no cluster runs here: every overlay renders, the built-in
kinds pass `kubernetes-validate --strict`, the operators' custom resources carry what their
CRDs require, `checkov` fails nothing beyond the skips docs/operations.md lists with reasons,
and the objects agree with each other and with the code (selectors, references, topics, ACLs,
settings) where validators look at one object at a time."""

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.catalog.main import SPEC as CATALOG
from services.catalog.settings import CatalogSettings
from services.gateway.settings import GatewaySettings
from services.kernel.kafka import dlq_topic, epoch_topic
from services.kernel.runtime import ServiceSpec
from services.kernel.settings import KernelSettings
from services.matching.main import SPEC as MATCHING
from services.matching.settings import MatchingSettings
from services.profiles.main import SPEC as PROFILES
from services.profiles.settings import ProfilesSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
CHECKERS = K8S / "checks" / ".venv" / "bin"
OPERATIONS = ROOT / "docs" / "operations.md"
KUBERNETES_VERSION = "1.32.0"

SPECS: dict[str, ServiceSpec] = {s.name: s for s in (CATALOG, PROFILES, MATCHING)}
SETTINGS: dict[str, type[KernelSettings]] = {
    "catalog": CatalogSettings,
    "profiles": ProfilesSettings,
    "matching": MatchingSettings,
    "gateway": GatewaySettings,
}
COMMANDS = {"serve", "worker", "consume", "migrate", "republish"}
# Settings whose defaults only suit the embedded mode: production must set every one.
PRODUCTION_SETTINGS = {
    "TASKFORCE_HOST",
    "TASKFORCE_PORT",
    "TASKFORCE_AUTH_MODE",
    "TASKFORCE_AUTH_ISSUER",
    "TASKFORCE_AUTH_AUDIENCE",
    "TASKFORCE_AUTH_JWKS_URL",
    "TASKFORCE_LOG_JSON",
}
DATA_SETTINGS = {
    "TASKFORCE_DATABASE_URL",
    "TASKFORCE_MIGRATE_ON_START",
    "TASKFORCE_RUN_WORKER_IN_API",
    "TASKFORCE_KAFKA_BOOTSTRAP_SERVERS",
    "TASKFORCE_KAFKA_IDEMPOTENCE",
    "TASKFORCE_KAFKA_SECURITY_PROTOCOL",
    "TASKFORCE_KAFKA_SASL_USERNAME",
    "TASKFORCE_KAFKA_SASL_PASSWORD",
    "TASKFORCE_KAFKA_SSL_CAFILE",
}
GATEWAY_SETTINGS = {"TASKFORCE_CATALOG_URL", "TASKFORCE_PROFILES_URL", "TASKFORCE_MATCHING_URL"}
# (apiVersion, paths that must be present) per custom resource kind, from the operators' CRDs.
CUSTOM_RESOURCES: dict[str, tuple[str, list[str]]] = {
    "Kafka": ("kafka.strimzi.io/v1beta2", ["spec.kafka.listeners", "spec.entityOperator"]),
    "KafkaNodePool": (
        "kafka.strimzi.io/v1beta2",
        ["metadata.labels.strimzi.io/cluster", "spec.replicas", "spec.roles", "spec.storage"],
    ),
    "KafkaTopic": (
        "kafka.strimzi.io/v1beta2",
        [
            "metadata.labels.strimzi.io/cluster",
            "spec.topicName",
            "spec.partitions",
            "spec.replicas",
        ],
    ),
    "KafkaUser": (
        "kafka.strimzi.io/v1beta2",
        [
            "metadata.labels.strimzi.io/cluster",
            "spec.authentication.type",
            "spec.authorization.type",
            "spec.authorization.acls",
        ],
    ),
    "Cluster": ("postgresql.cnpg.io/v1", ["spec.instances", "spec.storage.size"]),
    "ScheduledBackup": (
        "postgresql.cnpg.io/v1",
        ["spec.schedule", "spec.cluster.name", "spec.method"],
    ),
    "ObjectStore": ("barmancloud.cnpg.io/v1", ["spec.configuration.destinationPath"]),
    "ScaledObject": ("keda.sh/v1alpha1", ["spec.scaleTargetRef.name", "spec.triggers"]),
    "TriggerAuthentication": ("keda.sh/v1alpha1", ["spec"]),
    "ServiceMonitor": ("monitoring.coreos.com/v1", ["spec.selector", "spec.endpoints"]),
    "PodMonitor": ("monitoring.coreos.com/v1", ["spec.selector", "spec.podMetricsEndpoints"]),
}
# Secrets the manifests reference but do not contain: who writes each one.
OPERATOR_SECRETS = {
    "taskforce-tls": "cert-manager, from the Ingress's TLS section",
    "taskforce-backup-s3": "the platform operator: object-store credentials for backups",
}

Object = dict[str, Any]


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("kubectl is required in CI to render deploy/k8s (kubectl kustomize)")
        pytest.skip("kubectl not installed: deploy/k8s cannot be rendered here")
    return found


@cache
def _render(overlay: str) -> str:
    result = subprocess.run(
        [_kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def rendered(overlay: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{overlay}.yaml"
    path.write_text(_render(overlay))
    return path


@pytest.fixture
def objects(overlay: str) -> list[Object]:
    return [doc for doc in yaml.safe_load_all(_render(overlay)) if doc]


def _checker(name: str) -> str:
    path = CHECKERS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: `make install` syncs deploy/k8s/checks from its lock file")
    return str(path)


def _get(obj: Object, dotted: str) -> Any:
    """`spec.a.b`; a label key with dots is the rest of the path after `labels.`."""
    node: Any = obj
    parts = dotted.split(".")
    while parts:
        part = parts.pop(0)
        if part == "labels" and parts:
            node = (node or {}).get("labels", {})
            return node.get(".".join(parts))
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _of(objects: list[Object], kind: str) -> list[Object]:
    return [o for o in objects if o["kind"] == kind]


def _named(objects: list[Object], kind: str) -> dict[str, Object]:
    return {o["metadata"]["name"]: o for o in _of(objects, kind)}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        present, value = expr["key"] in labels, labels.get(expr["key"])
        op = expr["operator"]
        if (op == "In" and value not in expr["values"]) or (
            op == "NotIn" and value in expr["values"]
        ):
            return False
        if (op == "Exists" and not present) or (op == "DoesNotExist" and present):
            return False
    return True


def _pod_specs(objects: list[Object]) -> Iterator[tuple[Object, dict[str, Any]]]:
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            yield obj, obj["spec"]["template"]["spec"]


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _service_of(container: dict[str, Any]) -> tuple[str, str]:
    """(service, command) from the container's `python -m` arguments."""
    args = container.get("args", [])
    match = re.fullmatch(r"services\.(\w+)", args[0]) if args else None
    assert match, f"{container['name']}: args {args} do not name a service module"
    service = match[1]
    command = args[1] if len(args) > 1 else "serve"
    return service, command


def _provided_settings(
    objects: list[Object], pod: dict[str, Any], container: dict[str, Any]
) -> dict[str, str]:
    """TASKFORCE_* name -> value (or a placeholder for values the cluster provides) that the
    container gets from ConfigMaps, env entries and files in the secrets folder."""
    config_maps = _named(objects, "ConfigMap")
    settings: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            settings |= config_maps[source["configMapRef"]["name"]].get("data", {})
    for entry in container.get("env", []):
        settings[entry["name"]] = entry.get("value", "<from the cluster>")
    secrets_dir = settings.get("TASKFORCE_SECRETS_DIR")
    if secrets_dir:
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for mount in container.get("volumeMounts", []):
            if mount["mountPath"] != secrets_dir:
                continue
            for source in volumes[mount["name"]].get("projected", {}).get("sources", []):
                for item in source.get("secret", {}).get("items", []):
                    settings[item["path"].upper()] = "<from a secret file>"
    return {k: v for k, v in settings.items() if k.startswith("TASKFORCE_")}


# -- rendering and the validators ---------------------------------------------------------


def test_there_are_dev_and_prod_overlays() -> None:
    assert {"dev", "prod"} <= set(OVERLAYS)


def test_built_in_kinds_pass_kubernetes_validate_strict(rendered: Path) -> None:
    result = subprocess.run(
        [
            _checker("kubernetes-validate"),
            "--strict",
            "--no-warn",
            "--quiet",
            "-k",
            KUBERNETES_VERSION,
            str(rendered),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_custom_resources_have_their_api_version_and_required_fields(objects: list[Object]) -> None:
    built_in = {"", "v1", "apps/v1", "networking.k8s.io/v1", "policy/v1", "autoscaling/v2"}
    problems = []
    for obj in objects:
        group = obj["apiVersion"].rpartition("/")[0] if "/" in obj["apiVersion"] else ""
        if obj["apiVersion"] in built_in or group in built_in:
            continue
        if obj["kind"] not in CUSTOM_RESOURCES:
            problems.append(f"{obj['kind']} {obj['apiVersion']}: no CRD check for this kind")
            continue
        api_version, required = CUSTOM_RESOURCES[obj["kind"]]
        if obj["apiVersion"] != api_version:
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {obj['apiVersion']}")
        problems += [
            f"{obj['kind']}/{obj['metadata']['name']}: {path} missing"
            for path in required
            if _get(obj, path) in (None, "", [], {})
        ]
    assert problems == []


def _documented_skips() -> dict[str, str]:
    """checkov check id -> reason, from the skip table in docs/operations.md."""
    rows = re.findall(
        r"^\|\s*`(CKV2?_K8S_\d+)`\s*\|([^|]+)\|([^|]+)\|", OPERATIONS.read_text(), re.M
    )
    return {check: reason.strip() for check, _, reason in rows}


def test_checkov_fails_no_check_beyond_the_documented_skips(rendered: Path) -> None:
    skips = _documented_skips()
    assert all(len(reason) > 20 for reason in skips.values()), skips
    command = [_checker("checkov"), "-f", str(rendered), "--framework", "kubernetes"]
    command += ["--output", "json", "--quiet", "--compact"]
    for check in skips:
        command += ["--skip-check", check]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for each in reports
        for check in each["results"]["failed_checks"]
    ]
    assert failed == []
    assert sum(each["summary"]["passed"] for each in reports) > 100


# -- objects that must agree -------------------------------------------------------------


def test_every_deployment_selects_its_own_pods(objects: list[Object]) -> None:
    for deployment in _of(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert _selects(deployment["spec"]["selector"], labels), deployment["metadata"]["name"]


def test_every_service_selects_a_deployment_and_a_named_port(objects: list[Object]) -> None:
    deployments = _of(objects, "Deployment")
    for service in _of(objects, "Service"):
        chosen = [
            d
            for d in deployments
            if _selects(
                {"matchLabels": service["spec"]["selector"]},
                d["spec"]["template"]["metadata"]["labels"],
            )
        ]
        assert len(chosen) == 1, (
            service["metadata"]["name"],
            [d["metadata"]["name"] for d in chosen],
        )
        ports = {
            p["name"]
            for c in chosen[0]["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, (service["metadata"]["name"], port)
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP", "only the Ingress is public"


def test_only_the_gateway_is_behind_the_ingress_and_only_public_paths(
    objects: list[Object],
) -> None:
    for ingress in _of(objects, "Ingress"):
        assert ingress["spec"]["tls"], "the Ingress terminates TLS"
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] == "gateway"
                assert not re.match(r"/(metrics|healthz|readyz)", path["path"]), path["path"]


def test_every_reference_resolves(objects: list[Object]) -> None:
    config_maps = set(_named(objects, "ConfigMap"))
    accounts = set(_named(objects, "ServiceAccount"))
    secrets = set(_named(objects, "Secret")) | set(OPERATOR_SECRETS)
    secrets |= {f"{name}-app" for name in _named(objects, "Cluster")}  # CloudNativePG
    secrets |= set(_named(objects, "KafkaUser"))  # Strimzi's User Operator
    secrets |= {f"{name}-cluster-ca-cert" for name in _named(objects, "Kafka")}
    missing = []
    for owner, pod in _pod_specs(objects):
        where = f"{owner['kind']}/{owner['metadata']['name']}"
        if pod.get("serviceAccountName") not in accounts:
            missing.append(f"{where}: ServiceAccount {pod.get('serviceAccountName')}")
        for volume in pod.get("volumes", []):
            names = [volume.get("secret", {}).get("secretName")]
            names += [
                s["secret"]["name"]
                for s in volume.get("projected", {}).get("sources", [])
                if "secret" in s
            ]
            missing += [f"{where}: Secret {n}" for n in names if n and n not in secrets]
            cm = volume.get("configMap", {}).get("name")
            if cm and cm not in config_maps:
                missing.append(f"{where}: ConfigMap {cm}")
        for container in _containers(pod):
            for source in container.get("envFrom", []):
                if "configMapRef" in source and source["configMapRef"]["name"] not in config_maps:
                    missing.append(f"{where}: ConfigMap {source['configMapRef']['name']}")
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] not in secrets:
                    missing.append(f"{where}: Secret {ref['name']}")
    for trigger_auth in _of(objects, "TriggerAuthentication"):
        missing += [
            f"TriggerAuthentication: Secret {ref['name']}"
            for ref in trigger_auth["spec"].get("secretTargetRef", [])
            if ref["name"] not in secrets
        ]
    for kafka in _of(objects, "Kafka"):
        ref = _get(kafka, "spec.kafka.metricsConfig.valueFrom.configMapKeyRef.name")
        if ref and ref not in config_maps:
            missing.append(f"Kafka: ConfigMap {ref}")
    assert missing == []
    text = OPERATIONS.read_text()
    assert all(f"`{name}`" in text for name in OPERATOR_SECRETS), "document the Secrets to create"


def test_every_pod_is_hardened_and_probed(objects: list[Object]) -> None:
    for owner, pod in _pod_specs(objects):
        where = owner["metadata"]["name"]
        assert pod["automountServiceAccountToken"] is False, where
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        for container in _containers(pod):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert container["resources"]["limits"] and container["resources"]["requests"], where
        for container in pod["containers"]:
            ports = {p["name"] for p in container.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert container[probe]["httpGet"]["port"] in ports, (where, probe)
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", where
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", where
    for account in _of(objects, "ServiceAccount"):
        assert account["automountServiceAccountToken"] is False, account["metadata"]["name"]


def test_containers_run_real_commands_with_the_settings_they_need(
    objects: list[Object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for owner, pod in _pod_specs(objects):
        for container in _containers(pod):
            service, command = _service_of(container)
            assert service in SETTINGS, f"services.{service} does not exist"
            assert command in COMMANDS, (owner["metadata"]["name"], command)
            provided = _provided_settings(objects, pod, container)
            settings_type = SETTINGS[service]
            fields = {f"TASKFORCE_{name.upper()}" for name in settings_type.model_fields}
            fields.add("TASKFORCE_SECRETS_DIR")
            assert set(provided) <= fields, f"not settings of {service}: {set(provided) - fields}"
            needed = PRODUCTION_SETTINGS | (
                GATEWAY_SETTINGS if service == "gateway" else DATA_SETTINGS
            )
            if command in ("worker", "consume"):
                needed = needed | {"TASKFORCE_WORKER_HTTP_PORT"}
            assert needed <= set(provided), (owner["metadata"]["name"], needed - set(provided))
            assert provided["TASKFORCE_AUTH_MODE"] == "oidc"
            if service != "gateway":
                assert provided["TASKFORCE_MIGRATE_ON_START"] == "false"
                assert provided["TASKFORCE_RUN_WORKER_IN_API"] == "false"
            _parses_as_in_the_pod(settings_type, provided, monkeypatch, tmp_path)


def _parses_as_in_the_pod(
    settings_type: type[KernelSettings],
    provided: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The settings as the process reads them: the environment, and the files in the secrets
    folder (here a temporary one; the CA file stands in for the mounted one)."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    with monkeypatch.context() as env:
        for name in [n for n in os.environ if n.startswith("TASKFORCE_")]:
            env.delenv(name)
        for name, value in provided.items():
            if value == "<from a secret file>":
                (secrets / name.lower()).write_text(f"secret-of-{name.lower()}")
            elif name == "TASKFORCE_SECRETS_DIR":
                env.setenv(name, str(secrets))
            elif name == "TASKFORCE_KAFKA_SSL_CAFILE":
                env.setenv(name, __file__)
            else:
                env.setenv(name, value)
        if "TASKFORCE_DATABASE_URL" in provided:
            (secrets / "taskforce_database_url").write_text("postgresql://app:pw@db-rw:5432/app")
        settings = settings_type()
    if "TASKFORCE_DATABASE_URL" in provided:
        assert settings.database_url == "postgresql://app:pw@db-rw:5432/app"
    if "TASKFORCE_KAFKA_SASL_PASSWORD" in provided:
        assert settings.kafka_sasl_password is not None
        assert (
            settings.kafka_sasl_password.get_secret_value()
            == "secret-of-taskforce_kafka_sasl_password"
        )


def test_mounted_files_are_where_the_settings_look(objects: list[Object]) -> None:
    for owner, pod in _pod_specs(objects):
        for container in pod["containers"]:
            provided = _provided_settings(objects, pod, container)
            mounts = [m["mountPath"] for m in container.get("volumeMounts", [])]
            cafile = provided.get("TASKFORCE_KAFKA_SSL_CAFILE")
            if cafile and _service_of(container)[0] != "gateway":
                assert str(Path(cafile).parent) in mounts, owner["metadata"]["name"]
            assert "/tmp" in mounts, f"{owner['metadata']['name']}: read-only root needs /tmp"


def _consumed(spec: ServiceSpec) -> set[str]:
    return {topic for consumer in spec.consumers for topic in consumer.topics}


def test_every_topic_the_code_uses_has_a_kafka_topic(objects: list[Object]) -> None:
    declared = {t["spec"]["topicName"] for t in _of(objects, "KafkaTopic")}
    used = set()
    for spec in SPECS.values():
        used |= set(spec.topics_to_create()) | _consumed(spec)
    # Epoch markers are created by the services themselves, so that a lost cluster shows.
    assert used <= declared, used - declared
    assert not {epoch_topic(name) for name in SPECS} & declared
    assert declared <= used, f"topics nothing uses: {declared - used}"


def _acl(user: Object) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in user["spec"]["authorization"]["acls"]:
        resource = rule["resource"]
        assert resource.get("patternType", "literal") == "literal", "no prefix grants"
        granted.setdefault((resource["type"], resource.get("name", "")), set()).update(
            rule["operations"]
        )
    return granted


def test_each_service_kafka_user_grants_exactly_its_own_topics_and_group(
    objects: list[Object],
) -> None:
    users = _named(objects, "KafkaUser")
    for name, spec in SPECS.items():
        user = users[f"taskforce-{name}"]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        granted = _acl(user)
        expected = {("topic", t): {"Write"} for t in spec.publishes}
        expected |= {("topic", t): {"Read"} for t in _consumed(spec)}
        expected |= {("topic", dlq_topic(t)): {"Write"} for t in _consumed(spec)}
        expected |= {("topic", epoch_topic(name)): {"Create"}}
        expected |= {("group", c.name): {"Read"} for c in spec.consumers}
        for resource, operations in expected.items():
            assert operations <= granted.get(resource, set()), (name, resource)
        topics = {resource for resource in granted if resource[0] == "topic"}
        assert topics == {r for r in expected if r[0] == "topic"}, (name, topics)
        assert {r for r in granted if r[0] == "group"} == {r for r in expected if r[0] == "group"}


def test_pods_get_their_own_services_kafka_credentials(objects: list[Object]) -> None:
    for _, pod in _pod_specs(objects):
        for container in _containers(pod):
            service, _ = _service_of(container)
            provided = _provided_settings(objects, pod, container)
            if service == "gateway":
                continue
            assert provided["TASKFORCE_KAFKA_SASL_USERNAME"] == f"taskforce-{service}"


def test_autoscalers_target_what_exists_and_consumers_stay_within_partitions(
    objects: list[Object],
) -> None:
    deployments = _named(objects, "Deployment")
    partitions = {
        t["spec"]["topicName"]: t["spec"]["partitions"] for t in _of(objects, "KafkaTopic")
    }
    for hpa in _of(objects, "HorizontalPodAutoscaler"):
        target = deployments[hpa["spec"]["scaleTargetRef"]["name"]]
        assert target["metadata"]["labels"]["app.kubernetes.io/component"] == "api"
    for scaled in _of(objects, "ScaledObject"):
        target = deployments[scaled["spec"]["scaleTargetRef"]["name"]]
        service, command = _service_of(target["spec"]["template"]["spec"]["containers"][0])
        assert command == "consume"
        for trigger in scaled["spec"]["triggers"]:
            group = trigger["metadata"]["consumerGroup"]
            consumer = next(c for c in SPECS[service].consumers if c.name == group)
            total = sum(partitions[t] for t in consumer.topics)
            worker = deployments[f"{service}-worker"]["spec"]["replicas"]
            assert scaled["spec"]["maxReplicaCount"] + worker <= total, (service, total)
            assert trigger["metadata"]["allowIdleConsumers"] == "false"
    for budget in _of(objects, "PodDisruptionBudget"):
        chosen = [
            d
            for d in deployments.values()
            if _selects(budget["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
        ]
        assert len(chosen) == 1, budget["metadata"]["name"]


def test_outbox_relays_and_background_loops_run_once_per_service(objects: list[Object]) -> None:
    for name in SPECS:
        worker = _named(objects, "Deployment")[f"{name}-worker"]
        assert worker["spec"]["replicas"] == 1
        assert worker["spec"]["strategy"]["type"] == "Recreate"
        scalers = [
            s
            for s in _of(objects, "HorizontalPodAutoscaler") + _of(objects, "ScaledObject")
            if s["spec"]["scaleTargetRef"]["name"] == f"{name}-worker"
        ]
        assert scalers == []


def test_network_policies_deny_by_default_and_admit_outsiders_only_to_the_gateway(
    objects: list[Object],
) -> None:
    policies = _of(objects, "NetworkPolicy")
    deny = [
        p
        for p in policies
        if p["spec"]["podSelector"] == {}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    operations = {"monitoring", "cnpg-system"}
    deployments = _of(objects, "Deployment")
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            outside = [
                peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                for peer in rule.get("from", [])
                if "namespaceSelector" in peer
            ]
            if not outside or set(outside) <= operations:
                continue
            admitted = [
                d["metadata"]["name"]
                for d in deployments
                if _selects(
                    policy["spec"]["podSelector"], d["spec"]["template"]["metadata"]["labels"]
                )
            ]
            assert admitted == ["gateway"], (policy["metadata"]["name"], admitted)
    # Every Taskforce pod may resolve names and is covered by at least one allow for its traffic.
    for deployment in deployments:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        egress = [
            p
            for p in policies
            if p["spec"].get("egress") and _selects(p["spec"]["podSelector"], labels)
        ]
        assert any(p["metadata"]["name"] == "allow-dns" for p in egress)
