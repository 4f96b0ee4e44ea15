"""The resource types the sandbox serves, and the discovery documents built from them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

TKE_GROUP = "networking.tke.cloud.tencent.com"

READ_WRITE = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Subresource:
    """A subresource served under its parent (`statefulsets/scale`), of its own kind.

    A custom resource's `scale` reads and writes where its CRD says (`subresources.scale`:
    specReplicasPath, statusReplicasPath, labelSelectorPath, dotted JSON paths); a built-in
    kind's reads `spec.replicas`, `status.replicas` and its `spec.selector` object."""

    name: str
    group: str
    version: str
    kind: str
    verbs: tuple[str, ...]
    spec_replicas_path: str = ""
    status_replicas_path: str = ""
    label_selector_path: str = ""


SCALE = Subresource("scale", "autoscaling", "v1", "Scale", ("get", "patch", "update"))


def custom_scale(label_selector_path: str) -> Subresource:
    """A CRD's scale subresource with the usual replicas paths."""
    return Subresource(
        "scale",
        "autoscaling",
        "v1",
        "Scale",
        ("get", "patch", "update"),
        ".spec.replicas",
        ".status.replicas",
        label_selector_path,
    )


EVICTION = Subresource("eviction", "policy", "v1", "Eviction", ("create",))


def status_of(kind: str) -> Subresource:
    """`<plural>/status` of a core kind: its own kind, the parent's group and version."""
    return Subresource("status", "", "v1", kind, ("get", "patch", "update"))


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    verbs: tuple[str, ...] = READ_WRITE
    field_labels: frozenset[str] = field(default_factory=frozenset)
    custom: bool = False
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    # served at `version`, stored at this one (a CRD's other served version): "" when the same
    storage_version: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Store key: `plural.group` (`pods` for core)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def supported_fields(self) -> frozenset[str]:
        base = {"metadata.name"}
        if self.namespaced:
            base.add("metadata.namespace")
        return frozenset(base) | self.field_labels

    def api_resource(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            doc["shortNames"] = list(self.short_names)
        if self.categories:
            doc["categories"] = list(self.categories)
        return doc

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)

    def api_subresources(self) -> list[dict[str, Any]]:
        """Discovery entries; `group`/`version` only where they differ from the parent's, as
        apiserver's installer writes them (`pods/status` has none, `deployments/scale` has)."""
        out = []
        for s in self.subresources:
            doc: dict[str, Any] = {
                "name": f"{self.plural}/{s.name}",
                "singularName": "",
                "namespaced": self.namespaced,
            }
            if (s.group, s.version) != (self.group, self.version):
                doc["group"], doc["version"] = s.group, s.version
            doc["kind"], doc["verbs"] = s.kind, list(s.verbs)
            out.append(doc)
        return out


POD_FIELDS = frozenset(
    {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    }
)
EVENT_FIELDS = frozenset(
    {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    }
)


# served read-only (crds.py): a write is answered 405 MethodNotAllowed
CRDS = ResourceType(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    "customresourcedefinition",
    "CustomResourceDefinition",
    False,
    ("crd", "crds"),
    ("get", "list", "watch"),
    categories=("api-extensions",),
)


def builtin_types() -> list[ResourceType]:
    return [
        ResourceType(
            "",
            "v1",
            "namespaces",
            "namespace",
            "Namespace",
            False,
            ("ns",),
            ("create", "delete", "get", "list", "patch", "update", "watch"),
            frozenset({"status.phase"}),
        ),
        ResourceType(
            "",
            "v1",
            "nodes",
            "node",
            "Node",
            False,
            ("no",),
            field_labels=frozenset({"spec.unschedulable"}),
            subresources=(status_of("Node"),),
        ),
        ResourceType(
            "",
            "v1",
            "pods",
            "pod",
            "Pod",
            True,
            ("po",),
            field_labels=POD_FIELDS,
            categories=("all",),
            subresources=(EVICTION, status_of("Pod")),
        ),
        ResourceType(
            "", "v1", "events", "event", "Event", True, ("ev",), field_labels=EVENT_FIELDS
        ),
        ResourceType("", "v1", "configmaps", "configmap", "ConfigMap", True, ("cm",)),
        ResourceType(
            "", "v1", "secrets", "secret", "Secret", True, field_labels=frozenset({"type"})
        ),
        ResourceType(
            "apps",
            "v1",
            "deployments",
            "deployment",
            "Deployment",
            True,
            ("deploy",),
            categories=("all",),
            subresources=(SCALE,),
        ),
        ResourceType(
            "apps",
            "v1",
            "statefulsets",
            "statefulset",
            "StatefulSet",
            True,
            ("sts",),
            categories=("all",),
            subresources=(SCALE,),
        ),
        ResourceType(
            "apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, ("ds",), categories=("all",)
        ),
        *playground_types(),
        CRDS,
        ResourceType(
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
            "selfsubjectaccessreview",
            "SelfSubjectAccessReview",
            False,
            verbs=("create",),
        ),
    ]


KRUISE_GROUP = "apps.kruise.io"
TAPP_GROUP = "apps.tkestack.io"


def workload_crd_types() -> list[ResourceType]:
    """OpenKruise's Advanced StatefulSet and TKE's TApp, as their CRDs serve them: controllers
    that bring Pods back under the same name, each with the `/scale` subresource its CRD
    declares (the selector at `.status.labelSelector` for Kruise,
    `.status.scaleLabelSelector` for TApp). Only scenarios that install them serve them."""
    return [
        ResourceType(
            KRUISE_GROUP,
            "v1beta1",
            "statefulsets",
            "statefulset",
            "StatefulSet",
            True,
            ("asts", "sts"),
            custom=True,
            subresources=(custom_scale(".status.labelSelector"),),
        ),
        ResourceType(
            TAPP_GROUP,
            "v1",
            "tapps",
            "tapp",
            "TApp",
            True,
            (),
            custom=True,
            subresources=(custom_scale(".status.scaleLabelSelector"),),
        ),
    ]


def playground_types() -> list[ResourceType]:
    """Kinds people create with kubectl's typed commands while trying the sandbox: served as
    plain storage (the sandbox runs no controller for most of them)."""

    def t(group: str, version: str, plural: str, kind: str, *short: str, **kw: Any) -> ResourceType:
        return ResourceType(group, version, plural, kind.lower(), kind, True, short, **kw)

    rbac = "rbac.authorization.k8s.io"
    return [
        t("", "v1", "services", "Service", "svc", categories=("all",)),
        t("", "v1", "serviceaccounts", "ServiceAccount", "sa"),
        t("", "v1", "resourcequotas", "ResourceQuota", "quota"),
        t(
            "apps",
            "v1",
            "replicasets",
            "ReplicaSet",
            "rs",
            categories=("all",),
            subresources=(SCALE,),
        ),
        t("batch", "v1", "jobs", "Job", categories=("all",)),
        t("batch", "v1", "cronjobs", "CronJob", "cj", categories=("all",)),
        t("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", "pdb"),
        t("networking.k8s.io", "v1", "ingresses", "Ingress", "ing"),
        t(
            "autoscaling",
            "v2",
            "horizontalpodautoscalers",
            "HorizontalPodAutoscaler",
            "hpa",
            categories=("all",),
        ),
        t(rbac, "v1", "roles", "Role"),
        t(rbac, "v1", "rolebindings", "RoleBinding"),
        replace(t(rbac, "v1", "clusterroles", "ClusterRole"), namespaced=False),
        replace(t(rbac, "v1", "clusterrolebindings", "ClusterRoleBinding"), namespaced=False),
        replace(
            t("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", "pc"), namespaced=False
        ),
    ]


def tke_types(version: str = "v1") -> list[ResourceType]:
    return [
        ResourceType(
            TKE_GROUP,
            version,
            "vpcipclaims",
            "vpcipclaim",
            "VpcIPClaim",
            True,
            ("vipc",),
            custom=True,
        ),
        ResourceType(TKE_GROUP, version, "vpcips", "vpcip", "VpcIP", False, ("vip",), custom=True),
        ResourceType(
            TKE_GROUP,
            version,
            "nodeeniconfigs",
            "nodeeniconfig",
            "NodeENIConfig",
            False,
            ("nec",),
            custom=True,
        ),
        ResourceType(
            TKE_GROUP, version, "vpcenis", "vpceni", "VpcENI", False, ("veni",), custom=True
        ),
    ]


_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def kube_aware(version: str) -> tuple[int, int, int, str]:
    """Sort key of apimachinery's CompareKubeAwareVersionStrings: v2, v1, v1beta1, v1alpha1,
    then the names that are not versions, alphabetically."""
    m = _KUBE_VERSION.match(version)
    if m is None:
        return (3, 0, 0, version)
    rank = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (rank, -int(m.group(1)), -int(m.group(3) or 0), "")


class Registry:
    """Every served type, found by store key, by group/version/plural, or by kind."""

    def __init__(self, types: list[ResourceType]) -> None:
        self.types = types
        # a kind served in several versions: the stored one (the store's and controllers')
        self.by_key = {t.key: t for t in types if not t.storage_version}
        self.by_path = {(t.group, t.version, t.plural): t for t in types}
        self.by_kind = {(t.group, t.kind): t for t in types}

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        return self.by_path.get((group, version, plural))

    def for_api_version(self, api_version: str, kind: str) -> ResourceType | None:
        group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
        return self.by_kind.get((group, kind))

    def stored(self, t: ResourceType) -> ResourceType:
        """The type `t`'s objects are stored as (itself unless served at another version)."""
        return self.by_key[t.key] if t.storage_version else t

    def groups(self) -> dict[str, list[str]]:
        """Non-core group → its versions, the preferred first: in kube-aware order (GA before
        beta before alpha, higher first), as apiextensions-apiserver orders a CRD group's."""
        out: dict[str, list[str]] = {}
        for t in self.types:
            if t.group and t.version not in out.setdefault(t.group, []):
                out[t.group].append(t.version)
        return {g: sorted(vs, key=kube_aware) for g, vs in out.items()}

    # ---- discovery documents ----

    def api_versions(self) -> dict[str, Any]:
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
            ],
        }

    def _group_doc(self, name: str, versions: list[str]) -> dict[str, Any]:
        gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
        return {"name": name, "versions": gvs, "preferredVersion": gvs[0]}

    def api_group_list(self) -> dict[str, Any]:
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [self._group_doc(g, vs) for g, vs in self.groups().items()],
        }

    def api_group(self, group: str) -> dict[str, Any] | None:
        versions = self.groups().get(group)
        if versions is None:
            return None
        return {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc(group, versions)}

    def api_resource_list(self, group: str, version: str) -> dict[str, Any] | None:
        members = [t for t in self.types if t.group == group and t.version == version]
        if not members:
            return None
        gv = f"{group}/{version}" if group else version
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv,
            "resources": [d for t in members for d in (t.api_resource(), *t.api_subresources())],
        }

    # ---- OpenAPI v3: just enough for kubectl to see that fieldValidation is supported ----

    def _gv_paths(self) -> list[tuple[str, str, str]]:
        """(discovery path, group, version) for every served group version."""
        out = [("api/v1", "", "v1")]
        for g, versions in self.groups().items():
            out.extend((f"apis/{g}/{v}", g, v) for v in versions)
        return out

    def openapi_root(self) -> dict[str, Any]:
        return {
            "paths": {
                p: {"serverRelativeURL": f"/openapi/v3/{p}?hash={abs(hash(p)):016X}"}
                for p, _, _ in self._gv_paths()
            }
        }

    def openapi_group_version(self, path: str) -> dict[str, Any] | None:
        match = next(((g, v) for p, g, v in self._gv_paths() if p == path), None)
        if match is None:
            return None
        group, version = match
        params = [
            {"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for n in ("dryRun", "fieldManager", "fieldValidation")
        ]
        paths: dict[str, Any] = {}
        for t in self.types:
            if t.group != group or t.version != version or "patch" not in t.verbs:
                continue
            prefix = f"/{path}/namespaces/{{namespace}}" if t.namespaced else f"/{path}"
            gvk = {"group": t.group, "version": t.version, "kind": t.kind}
            op = {
                "x-kubernetes-group-version-kind": gvk,
                "x-kubernetes-action": "patch",
                "parameters": params,
                "responses": {"200": {"description": "OK"}},
            }
            paths[f"{prefix}/{t.plural}/{{name}}"] = {"patch": op}
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.32.2"},
            "paths": paths,
            "components": {"schemas": {}},
        }
