"""The ipamd Deployment as far as it could be read, and the reclaim policy it sets (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import ipamd, schema
from .claims import IpamdPolicy

Obj = dict[str, Any]


@dataclass
class IpamdInfo:
    """The ipamd Deployment as far as we could read it."""

    deployment: Obj | None
    flags: ipamd.IpamdFlags | None
    version: ipamd.Version | None
    image: str | None
    problem: str | None = None  # why it could not be read, for a warning line

    @property
    def policy(self) -> IpamdPolicy:
        """What ipamd does with retained claims; what cannot be read is left open: an unknown
        version may or may not read the annotation, args two flag packages read differently
        give two expiries."""
        f = self.flags
        if f is None:
            return IpamdPolicy()
        supported = None if self.version is None else self.version >= ipamd.ANNOTATION_EXPIRY_FROM
        return IpamdPolicy(
            f.expiry, supported, f.cascade, ambiguous=f.ambiguous, stop_expiry=f.stop_expiry
        )


def ipamd_info(dep: Obj) -> IpamdInfo:
    containers = schema.dig(dep, "spec", "template", "spec", "containers")
    containers = containers if isinstance(containers, list) else []
    try:
        idx = ipamd.find_ipamd_container(containers)
        container = containers[idx]
        flags = ipamd.read_flags(container)
    except ipamd.IpamdError as e:
        return IpamdInfo(dep, None, None, None, str(e))
    image = schema.text(container.get("image"))
    return IpamdInfo(dep, flags, ipamd.parse_version(image or ""), image)
