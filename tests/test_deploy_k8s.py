"""The Kubernetes manifests in scripts/deploy/k8s, checked against the Kubernetes API schemas.

``kubernetes-validate`` bundles the OpenAPI schemas of every Kubernetes release, so this runs
offline. Strict mode rejects unknown fields, so a typo (``readOnlyRootFileSystem``) fails here
instead of being silently dropped by the API server. Then the manifests are checked against
each other and against the rest of the deployment: selectors, ports, probes that nginx answers,
the security context the README promises, cookie affinity at the Ingress.
"""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
import yaml

from tests.conftest import ROOT

K8S = ROOT / "scripts" / "deploy" / "k8s"
# The oldest release still supported upstream when this was written, and the newest bundled.
VERSIONS = ["1.33.0", kubernetes_validate.latest_version()]


def _docs() -> dict[str, dict]:
    out = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                out[doc["kind"]] = doc
    return out


DOCS = _docs()


def test_every_kind_the_issue_asks_for_is_there():
    assert set(DOCS) == {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler",
                         "PodDisruptionBudget"}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", sorted(DOCS))
def test_manifest_is_valid_against_the_kubernetes_schema(kind, version):
    kubernetes_validate.validate(DOCS[kind], version, strict=True)


def test_the_validator_rejects_a_misspelt_field():
    bad = copy.deepcopy(DOCS["Deployment"])
    ctr = bad["spec"]["template"]["spec"]["containers"][0]
    ctr["securityContext"]["readOnlyRootFileSystem"] = ctr["securityContext"].pop(
        "readOnlyRootFilesystem")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, VERSIONS[-1], strict=True)


def test_security_context_is_the_one_the_readme_lists():
    pod = DOCS["Deployment"]["spec"]["template"]["spec"]
    ctr = pod["containers"][0]
    sc = ctr["securityContext"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert sc == {"runAsNonRoot": True, "runAsUser": 10001, "allowPrivilegeEscalation": False,
                  "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    tmp = next(v for v in pod["volumes"] if v["name"] == "tmp")
    assert tmp["emptyDir"]["medium"] == "Memory"
    assert {"name": "tmp", "mountPath": "/tmp"} in ctr["volumeMounts"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in ("runAsNonRoot: true", "runAsUser: 10001", "readOnlyRootFilesystem: true",
                 "allowPrivilegeEscalation: false", "capabilities: {drop: [ALL]}",
                 "medium: Memory"):
        assert text in readme


def test_probes_use_the_endpoints_nginx_answers_and_the_image_port():
    ctr = DOCS["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    nginx = (ROOT / "scripts" / "deploy" / "nginx.conf.template").read_text(encoding="utf-8")
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert ctr["ports"] == [{"name": "http", "containerPort": 8501}]
    assert "EXPOSE 8501" in dockerfile
    assert ctr["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert ctr["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert ctr["startupProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        path = ctr[probe]["httpGet"]["path"]
        assert f"location = {path} " in nginx
        assert ctr[probe]["httpGet"]["port"] == "http"
        # nginx gives up on a silent worker after 4 s (proxy_read_timeout), inside the probe's.
        assert ctr[probe]["timeoutSeconds"] >= 5
    # A liveness restart drops every session on the pod: never before a minute of failures.
    live = ctr["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 60


def test_service_ingress_hpa_and_pdb_point_at_the_deployment():
    dep = DOCS["Deployment"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert DOCS["Service"]["spec"]["selector"].items() <= labels.items()
    assert DOCS["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() \
        <= labels.items()
    assert DOCS["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    backend = DOCS["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == DOCS["Service"]["metadata"]["name"]
    target = DOCS["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", dep["metadata"]["name"])
    assert DOCS["HorizontalPodAutoscaler"]["spec"]["minReplicas"] \
        > DOCS["PodDisruptionBudget"]["spec"]["minAvailable"]


def test_ingress_keeps_a_user_on_one_pod_and_the_websocket_open():
    ann = DOCS["Ingress"]["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert ann["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"
    assert int(ann["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert ann["nginx.ingress.kubernetes.io/proxy-body-size"] == "52m"
