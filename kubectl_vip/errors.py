"""Exit codes and the error hierarchy every layer raises.

The API layer maps HTTP status and `Status.reason` to these classes (never leaking the client's
types upward); the CLI maps each class to one exit code and one line, in one place.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # ran, and refused / partly failed / found problems at --fail-on level
    USAGE = 2  # bad flag or value; nothing was sent
    ACCESS = 3  # cannot reach or authenticate, or RBAC forbids what is needed
    NOT_VPC_CNI = 4  # the TKE static-IP CRDs are not served


class VipError(Exception):
    """Base of every error the tool reports as one line."""

    exit_code: ExitCode = ExitCode.FAILED
    hint: str = ""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        if hint:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class UsageError(VipError):
    exit_code = ExitCode.USAGE


class ConfigError(VipError):
    """Kubeconfig missing, unreadable, or naming a context that does not exist."""

    exit_code = ExitCode.ACCESS


class NoAccess(VipError):
    """Nothing the command needs could be read: RBAC denies it all (or every read failed)."""

    exit_code = ExitCode.ACCESS


class RefusedError(VipError):
    """The command ran and decided not to act (safety rule, version gate, ...)."""

    exit_code = ExitCode.FAILED


class NotVpcCniError(VipError):
    exit_code = ExitCode.NOT_VPC_CNI


class ApiError(VipError):
    """An error answer from the API server (or no answer at all)."""

    exit_code = ExitCode.FAILED

    def __init__(
        self,
        message: str,
        *,
        code: int = 0,
        reason: str = "",
        status: dict[str, Any] | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(message, hint=hint)
        self.code = code
        self.reason = reason
        self.status = status or {}


class Unreachable(ApiError):
    exit_code = ExitCode.ACCESS


class TimedOut(Unreachable):
    """No whole answer before the deadline: --request-timeout (connect, headers and body), or
    a fleet context's own deadline."""


class Unauthorized(ApiError):
    exit_code = ExitCode.ACCESS


class Forbidden(ApiError):
    exit_code = ExitCode.ACCESS


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    """409: AlreadyExists, a stale resourceVersion, or a failed delete precondition."""


class Invalid(ApiError):
    """422, including a failed JSON-patch `test`."""


class Gone(ApiError):
    """410: an expired continue token or resourceVersion."""


class ServerError(ApiError):
    """5xx or 429: possibly transient."""


class UnexpectedResponse(ApiError):
    """An answer that is not the Kubernetes API's (an HTML page from a proxy or load balancer,
    a text body): something between us and the API server. The body is never shown."""

    exit_code = ExitCode.ACCESS


class MalformedAnswer(ApiError):
    """JSON from the API server in a shape the API never sends (a null item in a list,
    `metadata` that is not an object, junk in discovery)."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"unexpected answer from the API server: {detail}")


_BY_CODE: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
}


def api_error_for(code: int, status: dict[str, Any] | None, fallback_text: str = "") -> ApiError:
    """Build the matching ApiError from an HTTP code and a decoded `Status` body (if any)."""
    status = status or {}
    message = str(status.get("message") or fallback_text or f"HTTP {code}").strip()
    reason = str(status.get("reason") or "")
    cls: type[ApiError]
    if code in _BY_CODE:
        cls = _BY_CODE[code]
    elif code >= 500 or code == 429:
        cls = ServerError
    else:
        cls = ApiError
    return cls(message, code=code, reason=reason, status=status)
