"""`kubectl vip doctor`: independent checks over one gathered snapshot.

Importing the package registers every check (one module per area). Adding a check is one small
function with `@check(...)` in the module of its area, and one test.
"""

from __future__ import annotations

from . import (  # noqa: F401 - imported for their @check registrations
    checks_capacity,
    checks_claims,
    checks_crd,
    checks_eni,
    checks_expiry,
    checks_ipamd,
    checks_policy,
    checks_scheduling,
)
from .registry import (
    REGISTRY,
    Check,
    CheckResult,
    Finding,
    Issue,
    Severity,
    Status,
    all_checks,
    select,
)
from .registry import run as run_checks
from .snapshot import Snapshot

__all__ = [
    "REGISTRY",
    "Check",
    "CheckResult",
    "Finding",
    "Issue",
    "Severity",
    "Snapshot",
    "Status",
    "all_checks",
    "run_checks",
    "select",
]
