"""`Status` error bodies as kube-apiserver writes them (see API-BEHAVIOUR in the design notes).

Every failure inside the sandbox raises StatusError; the HTTP layer writes `err.body()` with
`err.code`. Messages follow apiserver's formats so that kubectl prints what it prints on a real
cluster.
"""

from __future__ import annotations

from typing import Any


class StatusError(Exception):
    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.metadata = metadata or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": self.metadata,
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.code
        return out


def qualified(resource: str, group: str) -> str:
    """`resource.group`, or just `resource` for the core group."""
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = kind
    d.update(extra)
    return d


def not_found(resource: str, group: str, name: str) -> StatusError:
    return StatusError(
        404,
        "NotFound",
        f'{qualified(resource, group)} "{name}" not found',
        _details(name, group, resource),
    )


def already_exists(resource: str, group: str, name: str, *, deleting: bool = False) -> StatusError:
    prefix = "object is being deleted: " if deleting else ""
    return StatusError(
        409,
        "AlreadyExists",
        f'{prefix}{qualified(resource, group)} "{name}" already exists',
        _details(name, group, resource),
    )


def conflict(resource: str, group: str, name: str, why: str) -> StatusError:
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
        _details(name, group, resource),
    )


MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def precondition_failed(kind: str, group: str, name: str, why: str) -> StatusError:
    """Delete preconditions: the message and details use the Kind, not the resource."""
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(kind, group)} "{name}": {why}',
        _details(name, group, kind),
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> StatusError:
    """causes: (cause reason, field, body such as 'Invalid value: "x": detail')."""
    parts = [f"{field}: {body}" for _, field, body in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return StatusError(
        422,
        "Invalid",
        f'{qualified(kind, group)} "{name}" is invalid: {joined}',
        _details(
            name,
            group,
            kind,
            causes=[{"reason": r, "message": body, "field": f} for r, f, body in causes],
        ),
    )


def patch_rejected() -> StatusError:
    """A JSON-patch `test` failed or a path is missing: the jsonpatch text is dropped."""
    return StatusError(
        422,
        "Invalid",
        "the server rejected our request due to an error in our request",
        {},
    )


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def forbidden(
    user: str, verb: str, resource: str, group: str, name: str, namespace: str
) -> StatusError:
    what = f'{qualified(resource, group)} "{name}"' if name else qualified(resource, group)
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    msg = (
        f'{what} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
        f'in API group "{group}" {scope}'
    )
    return StatusError(403, "Forbidden", msg, _details(name, group, resource))


def forbidden_reason(resource: str, group: str, name: str, why: str) -> StatusError:
    """Forbidden by admission (not RBAC): `<resource.group> "<name>" is forbidden: <why>`."""
    what = f'{qualified(resource, group)} "{name}"' if name else qualified(resource, group)
    return StatusError(
        403, "Forbidden", f"{what} is forbidden: {why}", _details(name, group, resource)
    )


def unauthorized() -> StatusError:
    return StatusError(401, "Unauthorized", "Unauthorized")


def unsupported_media_type(accepted: list[str], detail: str = "") -> StatusError:
    return StatusError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted)
        + (f" ({detail})" if detail else ""),
    )


def method_not_allowed(verb: str, resource: str, group: str) -> StatusError:
    return StatusError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        _details("", group, resource),
    )


CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter."
)
EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list."
)


def expired_continue(fresh_token: str) -> StatusError:
    return StatusError(410, "Expired", EXPIRED_CONTINUE, None, {"continue": fresh_token})


def internal(message: str) -> StatusError:
    return StatusError(500, "InternalError", message)
