"""Odd answers from the server: a body that is not the API's JSON is one line and exit 3 (the
body never shown); JSON in a shape the API never sends is "unexpected answer from the API
server" and exit 1, never a Python error. The sandbox plays the odd server (controls.Rewrite)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Rewrite

from .conftest import Result, run_vip

COMMANDS = {
    "list": ["list", "-A"],
    "list-ips": ["list", "--ips", "-A"],
    "usage": ["usage"],
    "describe": ["describe", "mysql-0", "-n", "db"],
    "reclaim": ["reclaim", "--orphaned", "-A", "--dry-run"],
    "config": ["config"],
    "doctor": ["doctor"],
    "bundle": ["bundle"],  # -o added per test
}

HTML = b"<html><head><title>502 Bad Gateway</title></head><body>SECRET-PAGE-BODY</body></html>"
NOT_OURS = ("SECRET-PAGE-BODY", "<html", "Traceback", "AttributeError", "TypeError", "KeyError")


def run(kubeconfig: Path, tmp_path: Path, argv: list[str]) -> Result:
    if argv[0] == "bundle":
        argv = [*argv, "-o", str(tmp_path / "b.tar.gz")]
    return run_vip(*argv, kubeconfig=kubeconfig)


# ---------------------------------------------------------------------------- not the API at all

NON_API = {
    "html-502": Rewrite(path="*", code=502, body=HTML, content_type="text/html"),
    "html-400": Rewrite(path="*", code=400, body=HTML, content_type="text/html; charset=utf-8"),
    "text-400": Rewrite(path="*", code=400, body=b"SECRET-PAGE-BODY\n", content_type="text/plain"),
    "html-200": Rewrite(path="*", code=200, body=HTML, content_type="text/html"),
    "json-200-truncated": Rewrite(path="*", body=b'{"kind": "SECRET-PAGE-BODY', code=200),
}
EXPECTED_LINE = {
    "html-502": "HTTP 502, text/html",
    "html-400": "HTTP 400, text/html",
    "text-400": "HTTP 400, text/plain",
    "html-200": "HTTP 200, text/html",
    "json-200-truncated": "HTTP 200, application/json",
}


@pytest.mark.parametrize("case", NON_API, ids=NON_API.keys())
@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_body_that_is_not_the_api_is_one_line_and_exit_3(
    sandbox: Sandbox, kubeconfig: Path, tmp_path: Path, argv: list[str], case: str
) -> None:
    sandbox.controls.rewrite(NON_API[case])
    r = run(kubeconfig, tmp_path, argv)
    assert r.code == 3, (r.code, r.stdout, r.stderr)
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith(f"error: unexpected response from {sandbox.url}: {EXPECTED_LINE[case]}")
    for text in NOT_OURS:
        assert text not in r.stderr
    assert not (tmp_path / "b.tar.gz").exists()


def test_a_proxy_page_on_one_kind_stops_doctor_instead_of_becoming_a_finding(
    sandbox: Sandbox, kubeconfig: Path
) -> None:
    sandbox.controls.rewrite(Rewrite(path="*/pods", code=400, body=HTML, content_type="text/html"))
    r = run_vip("doctor", "-o", "json", kubeconfig=kubeconfig)
    assert r.code == 3
    assert r.stdout == ""
    assert "unexpected response" in r.stderr and "HTTP 400, text/html" in r.stderr
    assert "SECRET-PAGE-BODY" not in r.stderr


def test_a_transient_proxy_page_is_retried(sandbox: Sandbox, kubeconfig: Path) -> None:
    expected = run_vip("list", "-A", "-o", "name", kubeconfig=kubeconfig)
    rw = sandbox.controls.rewrite(
        Rewrite(path="*/vpcips", code=503, body=HTML, content_type="text/html", times=2)
    )
    r = run_vip("list", "-A", "-o", "name", kubeconfig=kubeconfig)
    assert r.code == 0, r.stderr
    assert r.stdout == expected.stdout and rw.fired == 2


def test_the_apiservers_own_plain_404_is_still_not_found(
    sandbox: Sandbox, kubeconfig: Path
) -> None:
    """kube-apiserver answers an unknown path with text/plain `404 page not found`: that is a
    NotFound (describe says the Pod has none), not a proxy."""
    sandbox.controls.rewrite(
        Rewrite(
            path="/api/v1/namespaces/db/pods/mysql-0",
            code=404,
            body=b"404 page not found\n",
            content_type="text/plain; charset=utf-8",
        )
    )
    r = run_vip("describe", "mysql-0", "-n", "db", "-o", "json", kubeconfig=kubeconfig)
    assert r.code == 0, r.stderr
    assert "unexpected" not in r.stderr


# ---------------------------------------------------------------------------- JSON of a wrong shape

Transform = Callable[[Any], Any]
DISCOVERY = {"APIVersions", "APIGroupList", "APIGroup", "APIResourceList", "Status"}


def on_lists(change: Callable[[list[Any]], Any]) -> Transform:
    """Change the `items` of every list answer (discovery and Status bodies pass)."""

    def t(doc: Any) -> Any:
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            return {**doc, "items": change(doc["items"])}
        return doc

    return t


def null_objects(doc: Any) -> Any:
    """A list gets a null item; a single object is null."""
    if not isinstance(doc, dict) or doc.get("kind") in DISCOVERY:
        return doc
    if isinstance(doc.get("items"), list):
        return {**doc, "items": [*doc["items"], None]}
    return None


def bad_container_args(doc: Any) -> Any:
    """ipamd's args as a number (list or single Deployment)."""

    def one(dep: Any) -> Any:
        spec = dep.get("spec", {}).get("template", {}).get("spec", {})
        containers = [{**c, "args": 5} for c in spec.get("containers", [])]
        template = {**dep["spec"]["template"], "spec": {**spec, "containers": containers}}
        return {**dep, "spec": {**dep["spec"], "template": template}}

    if not isinstance(doc, dict) or doc.get("kind") in DISCOVERY:
        return doc
    if isinstance(doc.get("items"), list):
        return {**doc, "items": [one(d) for d in doc["items"]]}
    return one(doc)


def bad_metadata(items: list[Any]) -> list[Any]:
    return [{**i, "metadata": "junk"} for i in items] or [{"metadata": 7}]


MALFORMED: dict[str, Rewrite] = {
    "null-item": Rewrite(path="*", transform=on_lists(lambda items: [*items, None])),
    "string-item": Rewrite(path="*", transform=on_lists(lambda items: ["junk", *items])),
    "items-not-a-list": Rewrite(path="*", transform=on_lists(lambda items: {"0": items})),
    "metadata-not-an-object": Rewrite(path="*", transform=on_lists(bad_metadata)),
    "metadata-null": Rewrite(
        path="*", transform=on_lists(lambda items: [{**i, "metadata": None} for i in items])
    ),
    "container-args-not-a-list": Rewrite(path="*/deployments*", transform=bad_container_args),
    "labels-not-a-map": Rewrite(
        path="*",
        transform=on_lists(lambda items: [{"metadata": {"name": "x", "labels": ["a"]}}, *items]),
    ),
    "null-pods": Rewrite(path="*/pods*", transform=null_objects),
    "null-statefulsets": Rewrite(path="*/statefulsets*", transform=null_objects),
    "null-events": Rewrite(path="*/events*", transform=null_objects),
    "discovery-groups": Rewrite(path="/apis", transform=lambda d: {**d, "groups": "junk"}),
    "discovery-resources": Rewrite(
        path="/apis/networking.tke.cloud.tencent.com/*",
        transform=lambda d: {**d, "resources": [None]},
    ),
    "discovery-version": Rewrite(
        path="/apis",
        transform=lambda d: {
            **d,
            "groups": [{**g, "preferredVersion": {"version": "../../api/v1"}} for g in d["groups"]],
        },
    ),
}
# commands that never read what a case breaks (checked: the rewrite did not fire)
UNREAD = {
    ("metadata-null", "config"),  # its one list (Helm release Secrets) is empty in the demo
    ("null-pods", "config"),  # the Deployment's status says how many are ready
    ("discovery-groups", "config"),  # ipamd's Deployment is core apps/v1: no discovery
    ("discovery-resources", "config"),
    ("discovery-version", "config"),
    ("null-statefulsets", "config"),
    ("null-statefulsets", "bundle"),  # only its doctor.json reads them (and records it there)
    ("null-events", "list"),
    ("null-events", "list-ips"),
    ("null-events", "usage"),
    ("null-events", "reclaim"),
    ("null-events", "config"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=MALFORMED.keys())
@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_malformed_answers_are_one_line_never_a_python_error(
    sandbox: Sandbox, kubeconfig: Path, tmp_path: Path, argv: list[str], case: str
) -> None:
    command = next(k for k, v in COMMANDS.items() if v == argv)
    rw = sandbox.controls.rewrite(MALFORMED[case])
    r = run(kubeconfig, tmp_path, argv)
    shown = r.stdout + r.stderr
    for text in NOT_OURS:
        assert text not in shown, shown
    assert "unexpected AttributeError" not in shown and "unexpected TypeError" not in shown
    if rw.fired == 0 or (case, command) in UNREAD:
        if (case, command) in UNREAD:
            assert r.code in (0, 1) and "unexpected answer" not in shown
            return
        pytest.fail(f"{command} read nothing {case} breaks: add it to UNREAD if that is right")
    assert r.code == 1, (r.code, shown)
    assert "unexpected answer from the API server: " in shown, shown
    if command not in ("doctor", "bundle"):
        # a command that needs the answer stops with one line
        assert r.stdout == "" or "unexpected answer" not in r.stdout
        (line,) = r.stderr.splitlines()
        assert line.startswith("error: unexpected answer from the API server: ")


def test_a_review_without_a_status_means_just_try(sandbox: Sandbox, kubeconfig: Path) -> None:
    """A broken SelfSubjectAccessReview answer neither crashes doctor nor denies its reads."""
    sandbox.controls.rewrite(
        Rewrite(
            path="/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            method="POST",
            transform=lambda d: {**d, "status": "junk"},
        )
    )
    r = run_vip("doctor", "-o", "json", kubeconfig=kubeconfig)
    assert r.code == 1 and r.stderr == ""
    doc = json.loads(r.stdout)
    assert {x["state"] for x in doc["reads"]} == {"ok"}
