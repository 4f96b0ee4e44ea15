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
        if self.flags is None:
            return IpamdPolicy()
        supported = self.version is None or self.version >= ipamd.ANNOTATION_EXPIRY_FROM
        return IpamdPolicy(self.flags.expiry, supported, self.flags.cascade)


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
