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
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip import __version__
from kubectl_vip.release.build import (
    COMPILED,
    PLATFORMS,
    PYTHONS,
    Platform,
    Release,
    ReleaseError,
    dump_manifest,
    extra_requirements,
    fill_manifest,
    lacking_wheel,
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


# ------------------------------------------------------------------------- orjson (the fast extra)

FAST = ("orjson",)  # what the `fast` extra brings, as wheel file names spell it


def _zip(path: Path, entries: list[str], text: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name in entries:
            z.writestr(name, text)
    return path


def test_the_fast_extra_is_read_from_the_wheels_metadata(tmp_path: Path) -> None:
    meta = "\n".join(
        [
            "Metadata-Version: 2.4",
            "Name: kubectl-vip",
            "Requires-Dist: typer>=0.15",
            'Requires-Dist: orjson>=3.9; extra == "fast"',
            "Requires-Dist: ujson>=5 ; extra=='fast'",
            'Requires-Dist: pytest>=8.0; extra == "test"',
            'Requires-Dist: fastapi; extra == "faster"',
            "",
        ]
    )
    wheel = _zip(tmp_path / "w.whl", ["kubectl_vip-0.1.0.dist-info/METADATA"], meta)
    assert extra_requirements(wheel) == ("orjson>=3.9", "ujson>=5")
    assert extra_requirements(wheel, "test") == ("pytest>=8.0",)


# what pex 2.105 prints when a requirement has no wheel for one of its targets
PEX_NO_WHEEL = """pid 24671 -> /c/venvs/4/15/5f/bin/python /c/venvs/4/15/5f/pex \
--disable-pip-version-check --exists-action a --no-input --isolated --log /tmp/pip.log -q \
--cache-dir /c/pip/4/26.2.1/pip_cache download --dest \
/c/downloads/2/.tmp/resolver_download.o43di068/manylinux2014_x86_64-cp-313-cp313 \
--only-binary orjson orjson<3.10 --retries 5 --resume-retries 3 --timeout 15 exited with 1 and \
STDERR:
pip: ERROR: Could not find a version that satisfies the requirement orjson<3.10 (from versions: \
3.10.7, 3.13.0)
pip: ERROR: No matching distribution found for orjson<3.10
"""


@pytest.mark.parametrize(
    ("output", "extra", "lacking"),
    [
        (
            PEX_NO_WHEEL,
            ("orjson<3.10",),
            "orjson<3.10 for CPython 3.13 on manylinux2014_x86_64",
        ),
        (
            "pip: ERROR: No matching distribution found for ORJSON>=3.9\n",
            ("orjson>=3.9",),
            "ORJSON>=3.9",
        ),
        (PEX_NO_WHEEL.replace("orjson<3.10", "pydantic-core==2"), ("orjson<3.10",), None),
        (PEX_NO_WHEEL, (), None),
        ("pip: ERROR: HTTPSConnectionPool: Max retries exceeded\n", ("orjson>=3.9",), None),
    ],
    ids=["no-wheel-for-a-target", "no-target-named", "another-dist", "no-extra", "network"],
)
def test_a_build_without_a_wheel_for_the_extra_is_told_apart(
    output: str, extra: tuple[str, ...], lacking: str | None
) -> None:
    assert lacking_wheel(output, extra) == lacking


def _fake_pex(path: Path, wheels: list[str]) -> Path:
    return _zip(path, [f".deps/{w}/x.py" for w in wheels])


def test_missing_wheels_expects_orjson_when_asked(tmp_path: Path) -> None:
    mac = "-cp{0}-cp{0}-macosx_10_15_x86_64.macosx_11_0_arm64.macosx_10_15_universal2.whl"
    linux = "-cp{0}-cp{0}-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    by_key = {p.key: p for p in PLATFORMS}
    pex = _fake_pex(tmp_path / "mac", [f"orjson-3.13.0{mac.format(n)}" for n in (310, 311, 312)])
    for key in ("darwin_amd64", "darwin_arm64"):
        assert missing_wheels(pex, by_key[key], dists=FAST) == [
            f"orjson for CPython 3.13 on {key.replace('_', '/')}"
        ]
        assert missing_wheels(pex, by_key[key], ("3.10", "3.12"), FAST) == []
    pex = _fake_pex(tmp_path / "lin", [f"orjson-3.13.0{linux.format(n)}" for n in (310, 311)])
    assert missing_wheels(pex, by_key["linux_amd64"], ("3.10", "3.11"), FAST) == []
    assert missing_wheels(pex, by_key["linux_arm64"], ("3.10",), FAST) == [
        "orjson for CPython 3.10 on linux/arm64"
    ]
    # by default only the required compiled dependencies are expected
    assert "orjson" not in " ".join(missing_wheels(pex, by_key["linux_amd64"]))


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
    python: Path, binary: Path, home: Path, *args: str, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{python.parent}{os.pathsep}/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **extra_env,
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
    # it parses with the orjson it carries (unpacked under ~/.cache/pex, not the machine's)
    assert _parser(python, d / "kubectl-vip", home) == ("orjson", True)
    # every other CPython 3.10-3.13 this machine has, each with its own orjson wheel
    for version in PYTHONS:
        for other in Path.home().glob(f".pyenv/versions/{version}.*/bin/python3"):
            r = _run_bare(other, d / "kubectl-vip", home, "--version")
            assert r.returncode == 0 and r.stdout == f"kubectl-vip {__version__}\n", (other, r)
            assert _parser(other, d / "kubectl-vip", home) == ("orjson", True), other


# run inside the PEX's environment (PEX_INTERPRETER): which parser does fastjson use, and
# where does orjson come from?
_WHICH_PARSER = """
import sys
from kubectl_vip.api import fastjson
doc = b'{"n": [1, 2.5, 123456789012345678901]}'
assert fastjson.loads(doc) == {"n": [1, 2.5, 123456789012345678901]}
orjson = sys.modules.get("orjson")
print("orjson" if fastjson._fast_loads is not None else "json")
print(getattr(orjson, "__file__", ""))
"""


def _parser(python: Path, binary: Path, home: Path) -> tuple[str, bool]:
    """("orjson" or "json", whether orjson was imported from the PEX's own unpacked copy)."""
    r = _run_bare(python, binary, home, "-c", _WHICH_PARSER, PEX_INTERPRETER="1")
    assert r.returncode == 0, r.stderr
    parser, where = r.stdout.splitlines()
    return parser, where.startswith(str(home / ".cache" / "pex") + os.sep)


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
        [kubectl, "vip", "--sandbox", "list", "-n", "db", "--state", "scaledin"],
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
    assert built.fast[platform.key] is True
    assert missing_wheels(pex, platform, dists=COMPILED + FAST) == []
    wheels = pex_wheels(pex)
    want = {
        ("linux", "amd64"): "x86_64",
        ("linux", "arm64"): "aarch64",
        ("darwin", "amd64"): "x86_64",
        ("darwin", "arm64"): "arm64",
    }[(platform.os, platform.arch)]
    prefix = "manylinux" if platform.os == "linux" else "macosx"
    for dist in COMPILED + FAST:
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
    # no wheel of another OS or architecture came along (one wheel may name several: orjson's
    # macOS wheel is tagged x86_64, arm64 and universal2 at once)
    compiled = [w for w in wheels if not w.endswith("-none-any.whl")]
    assert compiled and all(prefix in w for w in compiled), compiled
    assert all(platform.wheel_matches(w[:-4].split("-")[-1]) for w in compiled), compiled


@pytest.mark.release
@pytest.mark.timeout(BUILD_TIMEOUT)
def test_a_platform_without_an_orjson_wheel_fails_the_build_naming_it(tmp_path: Path) -> None:
    """orjson < 3 has no wheel for any CPython this project supports: orjson is a dependency
    (the default install parses with it), so the build stops with one line naming the wheel."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    linux = next(p for p in PLATFORMS if p.key == "linux_amd64")
    with pytest.raises(ReleaseError) as e:
        release(tmp_path / "out", CACHE, (linux,), (here,), fast=("orjson<3",), log=print)
    assert str(e.value) == (
        f"{linux.archive(__version__)}: no wheel of orjson<3 for CPython {here} on "
        f"{linux.tag}; the release cannot carry its list parser"
    )


def test_orjson_is_a_dependency_of_the_default_install() -> None:
    import tomllib

    doc = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
    deps = [d.split(">")[0].split("=")[0].strip() for d in doc["project"]["dependencies"]]
    assert "orjson" in deps
