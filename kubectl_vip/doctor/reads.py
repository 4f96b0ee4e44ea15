"""The reads a doctor check may need: one list (or get) per kind per run, keyed by plural."""

from __future__ import annotations

# Reads a check may need: one list (or get) per kind per run. The keys are resource plurals.
CLAIMS = "vpcipclaims"
VIPS = "vpcips"
NECS = "nodeeniconfigs"
PODS = "pods"
NODES = "nodes"
EVENTS = "events"
STATEFULSETS = "statefulsets"
DEPLOYMENTS = "deployments"
DAEMONSETS = "daemonsets"
CONFIGMAP = "configmaps"
SECRETS = "secrets"
ENIS = "vpcenis"
# the TKE kinds' CustomResourceDefinitions (one get each); reading them also counts, while the
# claims, VpcIPs and NodeENIConfigs are listed, which paths of the field table each one has
CRDS = "customresourcedefinitions"
READ_KEYS = (
    CLAIMS,
    VIPS,
    NECS,
    PODS,
    NODES,
    EVENTS,
    STATEFULSETS,
    DEPLOYMENTS,
    DAEMONSETS,
    CONFIGMAP,
    SECRETS,
    ENIS,
    CRDS,
)
# what classifying claims (states as `kubectl vip list` shows them) cannot do without
CLASSIFY = (CLAIMS, VIPS, PODS, STATEFULSETS)
