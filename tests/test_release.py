"""The krew release: the manifest follows krew's rules, and the archives hold a `kubectl-vip`
that runs on a bare python3 (no venv, no site-packages) with the wheels of its platform.

Building takes about a minute (wheels come from the package index, cached under
build/release-cache): those tests carry the `release` marker, which the default run leaves
out and .ci/run runs on its own (`python -m pytest -q -m release`)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip import __version__
from kubectl_vip.release import (
    COMPILED,
    PLATFORMS,
    PYTHONS,
    Platform,
    Release,
    dump_manifest,
    fill_manifest,
    load_manifest,
    missing_wheels,
    pack,
    pex_wheels,
    release,
    validate_manifest,
)

from .conftest import BIN

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "release-cache"
BUILD_TIMEOUT = 1200


# ------------------------------------------------------------------------- the manifest


def test_repository_manifest_follows_krews_rules() -> None:
    doc = load_manifest(ROOT / "krew-manifest.yaml")
    assert validate_manifest(doc) == []
    spec = doc["spec"]
    assert doc["metadata"]["name"] == "vip"
    assert spec["version"] == f"v{__version__}"
    assert "python3 >= 3.10" in spec["caveats"]
    assert spec["homepage"].startswith("https://") and spec["description"].strip()
    combos = {
        (p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"])
        for p in spec["platforms"]
    }
    assert combos == {
        ("linux", "amd64"),
        ("linux", "arm64"),
        ("darwin", "amd64"),
        ("darwin", "arm64"),
    }
    for p in spec["platforms"]:
        labels = p["selector"]["matchLabels"]
        name = f"kubectl-vip_{__version__}_{labels['os']}_{labels['arch']}.tar.gz"
        assert p["uri"].endswith(f"/releases/download/v{__version__}/{name}")
        assert p["bin"] == "kubectl-vip"
        assert {f["from"] for f in p["files"]} == {"kubectl-vip", "LICENSE"}


def test_repository_manifest_is_in_the_release_scripts_format() -> None:
    text = (ROOT / "krew-manifest.yaml").read_text(encoding="utf-8")
    assert dump_manifest(yaml.safe_load(text)) == text


def _archive(tmp_path: Path, mode: int = 0o755) -> Path:
    binary = tmp_path / "bin"
    binary.write_text("#!/usr/bin/env python3\n")
    out = pack(binary, tmp_path / f"kubectl-vip_{__version__}_linux_amd64.tar.gz")
    if mode != 0o755:  # re-pack with another mode for the binary
        with tarfile.open(out) as t:
            members = [(m, t.extractfile(m).read()) for m in t.getmembers()]  # type: ignore[union-attr]
        with tarfile.open(out, "w:gz") as t:
            for m, data in members:
                m.mode = mode if m.name == "kubectl-vip" else m.mode
                t.addfile(m, io.BytesIO(data))
    return out


def _one_platform(archive: Path) -> dict[str, Any]:
    doc = load_manifest(ROOT / "krew-manifest.yaml")
    doc["spec"]["platforms"] = doc["spec"]["platforms"][:1]
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return fill_manifest(doc, __version__, {"linux_amd64": digest})


def test_validation_accepts_a_matching_archive(tmp_path: Path) -> None:
    archive = _archive(tmp_path)
    assert validate_manifest(_one_platform(archive), {"linux_amd64": archive}) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            lambda d: d.update(apiVersion="krew.googlecontainertools.github.com/v1alpha1"),
            "apiVersion",
        ),
        (lambda d: d.update(kind="Plugins"), "kind"),
        (lambda d: d["metadata"].update(name="v/ip"), "plugin name"),
        (lambda d: d["metadata"].update(name="COM1"), "plugin name"),
        (lambda d: d["spec"].update(version="0.1.0"), "semantic version"),
        (lambda d: d["spec"].update(version="v0.1"), "semantic version"),
        (lambda d: d["spec"].update(shortDescription="two\nlines"), "shortDescription"),
        (lambda d: d["spec"]["platforms"][0].update(sha256="ABC"), "sha256 must match"),
        (lambda d: d["spec"]["platforms"][0].update(sha256="0" * 64), "does not match"),
        (lambda d: d["spec"]["platforms"][0].update(bin=""), "bin has to be set"),
        (lambda d: d["spec"]["platforms"][0].update(bin="kubectl-vipp"), "not installed"),
        (lambda d: d["spec"]["platforms"][0].update(files=[]), "non-empty"),
        (
            lambda d: d["spec"]["platforms"][0]["files"].append({"from": "README*", "to": "."}),
            "matches nothing",
        ),
        (
            lambda d: d["spec"]["platforms"][0]["selector"]["matchLabels"].update(distro="x"),
            "os and arch only",
        ),
        (lambda d: d["spec"]["platforms"].append(d["spec"]["platforms"][0]), "second platform"),
        (lambda d: d["spec"].update(platforms=[]), "no platforms"),
    ],
)
def test_validation_rejects(tmp_path: Path, change: Any, problem: str) -> None:
    archive = _archive(tmp_path)
    doc = _one_platform(archive)
    change(doc)
    errs = validate_manifest(doc, {"linux_amd64": archive})
    assert any(problem in e for e in errs), errs


def test_validation_wants_an_executable_bin(tmp_path: Path) -> None:
    archive = _archive(tmp_path, mode=0o644)
    errs = validate_manifest(_one_platform(archive), {"linux_amd64": archive})
    assert any("not executable" in e for e in errs), errs


def test_archives_are_reproducible(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = _archive(tmp_path / "a"), _archive(tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    with tarfile.open(a) as t:
        assert sorted(m.name for m in t.getmembers()) == ["LICENSE", "kubectl-vip"]


# ------------------------------------------------------------------------- the build


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Release:
    out = tmp_path_factory.mktemp("release")
    r = release(out, CACHE, log=lambda *a: print(*a, file=sys.stderr))
    print(f"release built in {r.seconds:.0f}s", file=sys.stderr)
    return r


def _unpack(archive: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    with tarfile.open(archive) as t:
        t.extractall(dest, filter="data")
    return dest


@pytest.mark.release
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_built_manifest_and_archives(built: Release) -> None:
    doc = load_manifest(built.manifest)
    assert validate_manifest(doc, built.archives) == []
    assert doc["spec"]["version"] == f"v{__version__}"
    assert set(built.archives) == {p.key for p in PLATFORMS}
    for p in doc["spec"]["platforms"]:
        labels = p["selector"]["matchLabels"]
        archive = built.archives[f"{labels['os']}_{labels['arch']}"]
        assert archive.name == f"kubectl-vip_{__version__}_{labels['os']}_{labels['arch']}.tar.gz"
        assert p["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
        with tarfile.open(archive) as t:
            members = {m.name: m for m in t.getmembers()}
            assert set(members) == {"kubectl-vip", "LICENSE"}
            assert members["kubectl-vip"].mode == 0o755
            license_text = t.extractfile("LICENSE").read().decode()  # type: ignore[union-attr]
            head = t.extractfile("kubectl-vip").read(64)  # type: ignore[union-attr]
        assert "Apache License" in license_text and "Version 2.0" in license_text
        assert head.startswith(b"#!/usr/bin/env python3\n")


def _bare_python() -> Path:
    """The machine's python3 itself, not this virtual environment's."""
    exe = Path(sys.base_prefix) / "bin" / "python3"
    assert exe.is_file(), exe
    return exe


def _run_bare(
    python: Path, binary: Path, home: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{python.parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [str(python), "-I", str(binary), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=300,
    )


@pytest.mark.release
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_linux_amd64_runs_on_a_bare_python(built: Release, tmp_path: Path) -> None:
    d = _unpack(built.archives["linux_amd64"], tmp_path / "plugin")
    assert sorted(x.name for x in d.iterdir()) == ["LICENSE", "kubectl-vip"]
    home = tmp_path / "home"
    home.mkdir()
    python = _bare_python()
    r = _run_bare(python, d / "kubectl-vip", home, "--version")
    assert (r.returncode, r.stdout) == (0, f"kubectl-vip {__version__}\n"), r.stderr
    r = _run_bare(python, d / "kubectl-vip", home, "--sandbox", "list", "-A")
    assert r.returncode == 0, r.stderr
    assert "redis-3" in r.stdout and "Orphaned" in r.stdout and "claims:" in r.stdout
    # the same file answers completion requests (kubectl_complete-vip for krew users)
    r = _run_bare(python, d / "kubectl-vip", home, "__complete", "rec")
    assert r.stdout.splitlines()[0].split("\t")[0] == "reclaim" and r.stdout.endswith(":4\n")
    r = _run_bare(python, d / "kubectl-vip", home, "--sandbox", "reclaim", "-n", "db", "x")
    assert r.returncode == 1 and 'claim "x" not found' in r.stderr
    # every other CPython 3.10-3.13 this machine has
    for version in PYTHONS:
        for other in Path.home().glob(f".pyenv/versions/{version}.*/bin/python3"):
            r = _run_bare(other, d / "kubectl-vip", home, "--version")
            assert r.returncode == 0 and r.stdout == f"kubectl-vip {__version__}\n", (other, r)


@pytest.mark.release
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_unpacked_archive_is_a_kubectl_plugin(built: Release, tmp_path: Path) -> None:
    d = _unpack(built.archives["linux_amd64"], tmp_path / "plugin")
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{d}{os.pathsep}{_bare_python().parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(home),
    }
    kubectl = str(BIN / "kubectl")
    r = subprocess.run([kubectl, "plugin", "list"], capture_output=True, text=True, env=env)
    assert str(d / "kubectl-vip") in r.stdout
    r = subprocess.run(
        [kubectl, "vip", "--sandbox", "list", "-n", "db", "--state", "orphaned"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "redis-2" in r.stdout and "mysql-0" not in r.stdout


@pytest.mark.release
@pytest.mark.timeout(BUILD_TIMEOUT)
@pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.key)
def test_each_archive_holds_its_platforms_wheels(
    built: Release, platform: Platform, tmp_path: Path
) -> None:
    d = _unpack(built.archives[platform.key], tmp_path / "plugin")
    pex = d / "kubectl-vip"
    assert missing_wheels(pex, platform) == []
    wheels = pex_wheels(pex)
    want = {
        ("linux", "amd64"): "x86_64",
        ("linux", "arm64"): "aarch64",
        ("darwin", "amd64"): "x86_64",
        ("darwin", "arm64"): "arm64",
    }[(platform.os, platform.arch)]
    prefix = "manylinux" if platform.os == "linux" else "macosx"
    for dist in COMPILED:
        for version in PYTHONS:
            tag = "cp" + version.replace(".", "")
            found = [
                w
                for w in wheels
                if w.lower().startswith(dist + "-")
                and f"-{tag}-" in w
                and prefix in w
                and (want in w or "universal2" in w)
            ]
            assert found, f"no {dist} wheel for {tag} on {platform.key}"
    # no wheel of another OS or architecture came along
    other = {"x86_64", "aarch64", "arm64", "universal2"} - {want, "universal2"}
    compiled = [w for w in wheels if not w.endswith("-none-any.whl")]
    assert compiled and all(prefix in w for w in compiled), compiled
    assert not [w for w in compiled if any(f"_{o}" in w for o in other)], compiled
