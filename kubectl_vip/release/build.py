"""Build the krew release: one self-contained `kubectl-vip` per platform, archived with the
LICENSE, and the krew manifest with each archive's sha256.

    pip install -e ".[release]"
    python -m kubectl_vip.release                  # dist/: archives + krew-manifest.yaml
    python -m kubectl_vip.release --update-manifest   # also rewrite ./krew-manifest.yaml

Each `kubectl-vip` is a PEX file started by `python3` (>= 3.10): a zip holding this package and
the wheels of every dependency for CPython 3.10-3.13 on that platform (pydantic-core, aiohttp,
yarl, multidict, PyYAML... are compiled), resolved by pex from the package index by platform
tag, orjson (the list parser, a dependency, named again by the `fast` extra so that it comes
as a wheel only) among them; a platform without an orjson wheel for every Python version
fails the build with one line naming it. On first run it unpacks into a virtual environment under
~/.cache/pex (PEX_ROOT) and later runs start from there. Nothing in the CLI depends on this
module.
"""

from __future__ import annotations

import argparse
import email.parser
import fnmatch
import gzip
import hashlib
import io
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import __version__

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "krew-manifest.yaml"
LICENSE = ROOT / "LICENSE"
BIN = "kubectl-vip"
ENTRY_POINT = "kubectl_vip.cli.complete_plugin:multicall"  # `kubectl-vip __complete ...` too
PYTHONS = ("3.10", "3.11", "3.12", "3.13")
# pex runs this pip to resolve; pex's default (20.3.4) ignores Requires-Python of foreign targets
PIP_VERSION = "26.2.1"
# dependencies with compiled wheels: each archive must hold one per Python version
COMPILED = ("pydantic_core", "aiohttp", "yarl", "multidict", "frozenlist", "propcache", "pyyaml")
# the optional extra every archive carries where its wheels exist (pyproject: orjson)
FAST_EXTRA = "fast"
FIXED_MTIME = 315532800  # 1980-01-01: archives are byte-for-byte reproducible


@dataclass(frozen=True)
class Platform:
    os: str
    arch: str
    tag: str  # the wheel platform tag pex resolves for

    @property
    def key(self) -> str:
        return f"{self.os}_{self.arch}"

    def archive(self, version: str) -> str:
        return f"kubectl-vip_{version}_{self.os}_{self.arch}.tar.gz"

    def pex_platforms(self, pythons: tuple[str, ...]) -> list[str]:
        out = []
        for py in pythons:
            nodot = py.replace(".", "")
            out.append(f"{self.tag}-cp-{nodot}-cp{nodot}")
        return out

    def wheel_matches(self, platform_tag: str) -> bool:
        """Would a wheel with this platform tag (one of a compressed set) run here?"""
        arch = {"amd64": "x86_64", "arm64": "aarch64" if self.os == "linux" else "arm64"}
        tags = platform_tag.split(".")
        want = arch[self.arch]
        if self.os == "linux":
            return any(t.startswith("manylinux") and t.endswith("_" + want) for t in tags)
        return any(
            t.startswith("macosx_") and (t.endswith("_" + want) or t.endswith("_universal2"))
            for t in tags
        )


PLATFORMS = (
    Platform("linux", "amd64", "manylinux2014_x86_64"),
    Platform("linux", "arm64", "manylinux2014_aarch64"),
    Platform("darwin", "amd64", "macosx_11_0_x86_64"),
    Platform("darwin", "arm64", "macosx_11_0_arm64"),
)


# ------------------------------------------------------------------------------- building


def build_wheel(work: Path) -> Path:
    """This project as a wheel (what pip would install)."""
    dest = work / "wheel"
    shutil.rmtree(dest, ignore_errors=True)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dest), str(ROOT)])
    wheels = sorted(dest.glob("kubectl_vip-*.whl"))
    if len(wheels) != 1:
        raise ReleaseError(f"expected one kubectl_vip wheel in {dest}, found {wheels}")
    return wheels[0]


def build_pex(
    wheel: Path,
    platform: Platform,
    out: Path,
    cache: Path,
    pythons: tuple[str, ...] = PYTHONS,
    pip_version: str = PIP_VERSION,
    extra: tuple[str, ...] = (),
) -> Path:
    """One `kubectl-vip` file for `platform`, holding the wheels for every Python version; with
    the `extra` requirements too, which must come as wheels (never built from source)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pex",
        str(wheel),
        *extra,
        "--output-file",
        str(out),
        "--entry-point",
        ENTRY_POINT,
        "--venv",
        "--python-shebang",
        "/usr/bin/env python3",
        "--pex-root",
        str(cache),
        "--pip-version",
        pip_version,
        "--no-emit-warnings",
    ]
    for p in platform.pex_platforms(pythons):
        cmd += ["--platform", p]
    for req in extra:
        cmd += ["--only-binary", dist_name(req)]
    _run(cmd)
    return out


def extra_requirements(wheel: Path, extra: str = FAST_EXTRA) -> tuple[str, ...]:
    """What the wheel's metadata requires for `extra`, e.g. ("orjson>=3.9",)."""
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(z.read(name).decode("utf-8"))
    marker = re.compile(r"\s*extra\s*==\s*(['\"])" + re.escape(extra) + r"\1\s*")
    out = []
    for value in meta.get_all("Requires-Dist") or []:
        req, _, when = value.partition(";")
        if marker.fullmatch(when):
            out.append(req.strip())
    return tuple(out)


def dist_name(requirement: str) -> str:
    """The distribution a requirement names, spelt as in wheel file names ("orjson")."""
    m = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    if m is None:
        raise ReleaseError(f"cannot read a distribution name in {requirement!r}")
    return re.sub(r"[-_.]+", "_", m.group(0)).lower()


_PEX_TARGET = re.compile(r"--dest \S*/(?P<tag>[\w.]+)-cp-(?P<py>\d)(?P<minor>\d+)-cp\d+\s")


def lacking_wheel(output: str, extra: tuple[str, ...]) -> str | None:
    """When pex failed because one of the `extra` requirements has no wheel for a target,
    which one and where ("orjson>=3.9 for CPython 3.13 on macosx_11_0_arm64"); else None."""
    for line in output.splitlines():
        m = re.search(r"No matching distribution found for (\S+)", line)
        if m is None or dist_name(m.group(1)) not in {dist_name(r) for r in extra}:
            continue
        before = output[: output.find(line)]
        targets = list(_PEX_TARGET.finditer(before))
        if not targets:
            return m.group(1)
        t = targets[-1]
        return f"{m.group(1)} for CPython {t['py']}.{t['minor']} on {t['tag']}"
    return None


def pack(binary: Path, archive: Path) -> Path:
    """`kubectl-vip` (0755) and LICENSE (0644) in a reproducible tar.gz."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for src, name, mode in ((binary, BIN, 0o755), (LICENSE, "LICENSE", 0o644)):
            data = src.read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            info.mtime = FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    archive.parent.mkdir(parents=True, exist_ok=True)
    with archive.open("wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue())
    return archive


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------- manifest


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ReleaseError(f"{path} is not a YAML mapping")
    return doc


def release_url(homepage: str, version: str, archive: str) -> str:
    return f"{homepage.rstrip('/')}/releases/download/v{version}/{archive}"


def fill_manifest(doc: dict[str, Any], version: str, sums: dict[str, str]) -> dict[str, Any]:
    """The manifest for `version`: each platform's uri and sha256 (keyed os_arch)."""
    spec = doc["spec"]
    spec["version"] = f"v{version}"
    by_key = {p.key: p for p in PLATFORMS}
    for entry in spec["platforms"]:
        labels = entry["selector"]["matchLabels"]
        p = by_key[f"{labels['os']}_{labels['arch']}"]
        entry["uri"] = release_url(spec["homepage"], version, p.archive(version))
        entry["sha256"] = sums[p.key]
    return doc


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_manifest(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100, default_flow_style=False)


_SEMVER = re.compile(
    r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)
_SAFE_NAME = re.compile(r"^[\w-]+$")
_SHA256 = re.compile(r"^[a-f0-9]{64}$")


def validate_manifest(doc: dict[str, Any], archives: dict[str, Path] | None = None) -> list[str]:
    """krew's checks (internal/index/validation): apiVersion, kind, a safe name, a short
    description on one line, a v-prefixed semver, platforms with uri, lowercase sha256, bin,
    files with from/to and an os/arch selector; no two platforms for the same os/arch. With
    the archives (keyed os_arch): the sha256 matches, every `files.from` matches an entry and
    `bin` is where the file operations put it, executable. Returns the problems found."""
    errs: list[str] = []
    if doc.get("apiVersion") != "krew.googlecontainertools.github.com/v1alpha2":
        errs.append(f"apiVersion {doc.get('apiVersion')!r} is not supported by krew")
    if doc.get("kind") != "Plugin":
        errs.append(f"kind {doc.get('kind')!r} is not Plugin")
    name = str((doc.get("metadata") or {}).get("name") or "")
    if not _SAFE_NAME.match(name) or name.upper() in _WINDOWS_RESERVED:
        errs.append(f"plugin name {name!r} is not allowed")
    spec = doc.get("spec") or {}
    short = str(spec.get("shortDescription") or "")
    if not short or "\n" in short or "\r" in short:
        errs.append("shortDescription must be one non-empty line")
    if not _SEMVER.match(str(spec.get("version") or "")):
        errs.append(f"version {spec.get('version')!r} is not a v-prefixed semantic version")
    platforms = spec.get("platforms") or []
    if not platforms:
        errs.append("no platforms")
    seen: set[tuple[str, str]] = set()
    for i, pl in enumerate(platforms):
        where = f"platforms[{i}]"
        before = len(errs)
        if not pl.get("uri"):
            errs.append(f"{where}: uri has to be set")
        if not _SHA256.match(str(pl.get("sha256") or "")):
            errs.append(f"{where}: sha256 must match {_SHA256.pattern}")
        if not pl.get("bin"):
            errs.append(f"{where}: bin has to be set")
        files = pl.get("files")
        if files is not None and not files:
            errs.append(f"{where}: files has to be unspecified or non-empty")
        for op in files or []:
            if not op.get("from") or not op.get("to"):
                errs.append(f"{where}: files entries need from and to")
        labels = ((pl.get("selector") or {}).get("matchLabels")) or {}
        if not labels or set(labels) - {"os", "arch"}:
            errs.append(f"{where}: selector.matchLabels must use os and arch only")
        key = (str(labels.get("os")), str(labels.get("arch")))
        if key in seen:
            errs.append(f"{where}: a second platform for {key[0]}/{key[1]}")
        seen.add(key)
        if archives is not None and len(errs) == before:
            errs += _check_archive(pl, archives.get(f"{key[0]}_{key[1]}"), where)
    return errs


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10))}
_WINDOWS_RESERVED |= {f"LPT{i}" for i in range(1, 10)}


def _check_archive(pl: dict[str, Any], archive: Path | None, where: str) -> list[str]:
    if archive is None or not archive.is_file():
        return [f"{where}: no archive built"]
    errs = []
    if sha256(archive) != pl["sha256"]:
        errs.append(f"{where}: sha256 does not match {archive.name}")
    if not str(pl["uri"]).endswith("/" + archive.name):
        errs.append(f"{where}: uri does not name {archive.name}")
    with tarfile.open(archive) as tar:
        members = {m.name.lstrip("./"): m for m in tar.getmembers() if m.isfile()}
    installed: dict[str, tarfile.TarInfo] = {}
    for op in pl.get("files") or [{"from": "*", "to": "."}]:
        matched = [n for n in members if fnmatch.fnmatch(n, str(op["from"]))]
        if not matched:
            errs.append(f"{where}: files.from {op['from']!r} matches nothing in {archive.name}")
        for n in matched:
            installed[posixpath.normpath(posixpath.join(str(op["to"]), Path(n).name))] = members[n]
    binary = installed.get(str(pl["bin"]))
    if binary is None:
        errs.append(f"{where}: bin {pl['bin']!r} is not installed by the files operations")
    elif not binary.mode & 0o111:
        errs.append(f"{where}: bin {pl['bin']!r} is not executable")
    return errs


# ------------------------------------------------------------------------------- checking


def pex_wheels(pex: Path) -> list[str]:
    """The wheel file names a PEX carries (its `.deps/` entries)."""
    with zipfile.ZipFile(pex) as z:
        names = {n.split("/")[1] for n in z.namelist() if n.startswith(".deps/") and "/" in n[6:]}
    return sorted(n for n in names if n.endswith(".whl"))


def missing_wheels(
    pex: Path,
    platform: Platform,
    pythons: tuple[str, ...] = PYTHONS,
    dists: tuple[str, ...] = COMPILED,
) -> list[str]:
    """Compiled dependencies (`dists`, named as in wheel file names) with no wheel for
    (python, platform) in the PEX."""
    have: dict[str, list[tuple[str, str]]] = {}
    for w in pex_wheels(pex):
        parts = w[:-4].split("-")
        dist, py, plat = parts[0].lower(), parts[-3], parts[-1]
        have.setdefault(dist, []).append((py, plat))
    missing = []
    for dist in dists:
        for py in pythons:
            tag = "cp" + py.replace(".", "")
            ok = any(
                tag in pys.split(".") and platform.wheel_matches(plat)
                for pys, plat in have.get(dist, [])
            )
            if not ok:
                missing.append(f"{dist} for CPython {py} on {platform.os}/{platform.arch}")
    return missing


# ------------------------------------------------------------------------------- the release


@dataclass
class Release:
    version: str
    archives: dict[str, Path]
    manifest: Path
    seconds: float
    fast: dict[str, bool]  # by os_arch: does the archive carry the `fast` extra (orjson)?


def release(
    out: Path,
    cache: Path,
    platforms: tuple[Platform, ...] = PLATFORMS,
    pythons: tuple[str, ...] = PYTHONS,
    jobs: int = 2,
    pip_version: str = PIP_VERSION,
    log: Any = print,
    fast: tuple[str, ...] | None = None,
) -> Release:
    """`fast`: the requirements of the `fast` extra (default: as the wheel's metadata says)."""
    t0 = time.monotonic()
    version = __version__
    work = out / "work"
    wheel = build_wheel(work)
    log(f"built {wheel.name}")
    extra = extra_requirements(wheel) if fast is None else fast

    def one(p: Platform) -> tuple[str, Path, bool]:
        t = time.monotonic()
        name = p.archive(version)
        dest = work / p.key / BIN
        try:
            binary = build_pex(wheel, p, dest, cache, pythons, pip_version, extra)
            with_extra = bool(extra)
        except ReleaseError as e:
            lacking = lacking_wheel(e.output, extra)
            if lacking is None:
                raise
            # orjson is a dependency: an archive without it would not be the default install
            raise ReleaseError(
                f"{name}: no wheel of {lacking}; the release cannot carry its list parser",
                e.output,
            ) from None
        expected = COMPILED + tuple(dist_name(r) for r in extra if with_extra)
        missing = missing_wheels(binary, p, pythons, expected)
        if missing:
            raise ReleaseError("the PEX lacks wheels: " + "; ".join(missing))
        archive = pack(binary, out / name)
        size = archive.stat().st_size / 1e6
        carries = f" with {', '.join(map(dist_name, extra))}" if with_extra else ""
        log(f"{archive.name}{carries}: {size:.1f} MB in {time.monotonic() - t:.0f}s")
        return p.key, archive, with_extra

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        built = list(pool.map(one, platforms))
    archives = {key: archive for key, archive, _ in built}
    sums = {k: sha256(a) for k, a in archives.items()}
    doc = load_manifest()
    doc["spec"]["platforms"] = [
        pl
        for pl in doc["spec"]["platforms"]
        if f"{pl['selector']['matchLabels']['os']}_{pl['selector']['matchLabels']['arch']}"
        in archives
    ]
    doc = fill_manifest(doc, version, sums)
    problems = validate_manifest(doc, archives)
    if problems:
        raise ReleaseError("the manifest is invalid: " + "; ".join(problems))
    manifest = out / "krew-manifest.yaml"
    manifest.write_text(dump_manifest(doc), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    fast_by_key = {key: with_extra for key, _, with_extra in built}
    return Release(version, archives, manifest, time.monotonic() - t0, fast_by_key)


class ReleaseError(Exception):
    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output  # everything the failed command printed


def _run(cmd: list[str]) -> None:
    # wheel and pex honour SOURCE_DATE_EPOCH: the same tree and index give the same bytes
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(FIXED_MTIME)}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        tail = "\n".join((p.stderr or p.stdout).strip().splitlines()[-15:])
        raise ReleaseError(
            f"{' '.join(cmd[:4])} ... failed ({p.returncode}):\n{tail}", p.stderr + p.stdout
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kubectl_vip.release", description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="archives + manifest")
    ap.add_argument(
        "--cache", type=Path, default=ROOT / "build" / "release-cache", help="pex/pip cache"
    )
    ap.add_argument(
        "--platform",
        action="append",
        choices=[f"{p.os}/{p.arch}" for p in PLATFORMS],
        help="only these (repeatable; default: all)",
    )
    ap.add_argument("--jobs", type=int, default=2, help="platforms built at once")
    ap.add_argument("--pip-version", default=PIP_VERSION, help="the pip pex resolves with")
    ap.add_argument(
        "--update-manifest",
        action="store_true",
        help=f"also write the result to {MANIFEST.name} (for the release commit)",
    )
    a = ap.parse_args(argv)
    chosen = tuple(p for p in PLATFORMS if not a.platform or f"{p.os}/{p.arch}" in a.platform)
    try:
        r = release(a.out, a.cache, chosen, jobs=a.jobs, pip_version=a.pip_version)
    except ReleaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {r.manifest} ({r.seconds:.0f}s)")
    if a.update_manifest:
        shutil.copyfile(r.manifest, MANIFEST)
        print(f"updated {MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
