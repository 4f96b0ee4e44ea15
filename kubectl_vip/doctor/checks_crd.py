"""Area `crd`: which TKE kinds this cluster serves, in which version."""

from __future__ import annotations

from .registry import Issue, Severity, check
from .snapshot import Snapshot

KIND_ORDER = ("vpcipclaims", "vpcips", "nodeeniconfigs", "vpcenis")


@check("VIP-CRD-001", area="crd", title="TKE CRDs served")
def crds_served(s: Snapshot) -> list[Issue]:
    """Which kinds the TKE group serves, in which version (a cluster that serves no VpcIPClaim
    and VpcIP stops the run with exit 4 before any check)."""
    served = [p for p in KIND_ORDER if p in s.served]
    served += sorted(p for p in s.served if p not in KIND_ORDER)
    kinds = ", ".join(s.served[p] or p for p in served) or "none"
    gv = f"{s.tke_group}/{s.tke_version or '?'}"
    evidence = [f"kinds: {kinds}"]
    title = f"TKE CRDs served: {gv}"
    if "nodeeniconfigs" not in s.served:
        evidence.append(
            "NodeENIConfig (nec) is not served: an empty ENI config (FAQ 2) cannot be seen; "
            "VpcIPs in Attaching and ENILimit Events are still checked"
        )
    return [Issue(Severity.INFO, title, evidence, "-", [f"APIGroup/{s.tke_group}"])]
