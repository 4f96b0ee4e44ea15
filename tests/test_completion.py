"""Shell completion: the generated tree and scripts are current, `kubectl_complete-vip` answers
static and cluster candidates (also through the real kubectl), and the bash script shows them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubectl_vip.cli import completion, completion_gen
from kubectl_vip.cli.complete_plugin import (
    DEADLINE,
    DEFAULT,
    NO_FILE_COMP,
    Line,
    complete,
    fetch_dynamic,
    format_answer,
    kubeconfig_contexts,
    parse,
)
from kubectl_vip.sandbox import Sandbox

from .conftest import BIN, Runner, run_vip

ROOT = Path(__file__).resolve().parent.parent
SPEC = completion.load_spec()


class Recorder:
    """A stand-in for the cluster: records what was asked, answers from a table."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.asked: list[tuple[str, Line]] = []
        self.answers = answers or {}

    def __call__(self, kind: str, line: Line) -> list[tuple[str, str]]:
        self.asked.append((kind, line))
        return [(v, "") for v in self.answers.get(kind, [])]


def values(args: list[str], fetch: Recorder | None = None) -> tuple[list[str], int]:
    got, directive = complete(args, SPEC, fetch or Recorder())
    return [v for v, _ in got], directive


# ------------------------------------------------------------------------- generated files


def test_generated_files_are_current() -> None:
    stale = completion_gen.stale()
    assert not stale, f"stale: {[str(p) for p in stale]}; run `{completion.REGENERATE}`"


def test_tree_has_every_command_and_the_cluster_valued_arguments() -> None:
    import typer

    from kubectl_vip.cli.app import app

    names = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert set(SPEC["commands"]) == names
    assert SPEC["commands"]["reclaim"]["args"][0]["value"] == "reclaimable-claim"
    assert SPEC["commands"]["describe"]["args"][0]["value"] == "claim"
    globals_ = {o for f in SPEC["flags"] if f.get("global") for o in f["opts"]}
    assert {"-n", "--context", "--kubeconfig", "-A", "--sandbox"} <= globals_
    assert "--version" not in globals_  # only before the subcommand


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_completion_command_prints_the_shipped_script(shell: str) -> None:
    r = run_vip("completion", shell)
    assert r.code == 0, r.stderr
    shipped = ROOT / "completions" / completion.SCRIPT_FILES[shell]
    assert r.stdout == shipped.read_text(encoding="utf-8")
    assert "kubectl_complete-vip" in r.stdout and "__complete" in r.stdout


def test_completion_command_refuses_an_unknown_shell() -> None:
    r = run_vip("completion", "tcsh")
    assert r.code == 2
    assert 'unknown shell "tcsh"' in r.stderr


def test_check_mode_reports_a_stale_script(tmp_path: Path) -> None:
    completion_gen.write(tmp_path)
    assert completion_gen.stale(tmp_path) == []
    (tmp_path / "kubectl-vip.bash").write_text("# old\n")
    assert completion_gen.stale(tmp_path) == [tmp_path / "kubectl-vip.bash"]
    assert completion_gen.main(["--check", str(tmp_path)]) == 1


# ------------------------------------------------------------------------- static answers


def test_subcommands_by_prefix() -> None:
    assert values(["re"]) == (["reclaim"], NO_FILE_COMP)
    got, _ = values([""])
    assert {"list", "reclaim", "describe", "completion", "sandbox"} <= set(got)
    assert values(["sandbox", ""]) == (["serve"], NO_FILE_COMP)


def test_subcommand_after_global_flags() -> None:
    assert values(["-n", "db", "--sandbox", "rec"])[0] == ["reclaim"]
    assert values(["--context=x", "li"])[0] == ["list"]


def test_flags_of_the_command_and_the_global_ones() -> None:
    got, directive = values(["list", "--s"])
    assert directive == NO_FILE_COMP
    assert got == ["--sandbox", "--state", "--selector", "--sort-by"]
    got, _ = values(["list", "-"])
    assert {"-n", "--namespace", "-o", "--ips", "--help"} <= set(got)
    assert "--version" not in got  # root-only
    assert "--version" in values(["--v"])[0]


def test_flags_already_given_are_not_offered_again_unless_repeatable() -> None:
    got, _ = values(["list", "--ips", "--state", "Orphaned", "--"])
    assert "--ips" not in got and "--state" in got


def test_choices_of_a_flag() -> None:
    assert values(["list", "-o", "j"]) == (["json"], NO_FILE_COMP)
    assert values(["usage", "--output", ""])[0] == ["table", "wide", "json", "yaml", "prometheus"]
    assert values(["list", "--state", "Ov"])[0] == ["Overdue"]
    assert values(["list", "--sort-by", ""])[0] == ["name", "age", "retained", "ip"]
    assert values(["doctor", "--fail-on", ""])[0] == ["error", "warning", "never"]
    assert values(["completion", ""])[0] == ["bash", "zsh", "fish"]


def test_flag_equals_value_forms() -> None:
    assert values(["list", "--state=Or"])[0] == ["--state=Orphaned"]
    assert values(["list", "--state", "Orphaned,Ov"])[0] == ["Orphaned,Overdue"]
    assert values(["list", "--ips=x"]) == ([], NO_FILE_COMP)  # a boolean takes no value


def test_file_valued_flags_let_the_shell_complete_files() -> None:
    assert values(["reclaim", "--from-file", ""]) == ([], DEFAULT)
    assert values(["--kubeconfig", "~/.k"]) == ([], DEFAULT)
    assert values(["sandbox", "serve", "--write-kubeconfig="]) == ([], DEFAULT)


def test_free_text_values_complete_nothing() -> None:
    assert values(["reclaim", "--retained-for", ""]) == ([], NO_FILE_COMP)
    assert values(["set-expiry", ""]) == ([], NO_FILE_COMP)


def test_optional_dry_run_mode() -> None:
    assert values(["set-expiry", "--dry-run="])[0] == ["--dry-run=client", "--dry-run=server"]
    # bare --dry-run takes no value: the next word is the duration argument, then nothing
    line = parse(SPEC, ["set-expiry", "--dry-run", "1h"])
    assert line.positional == ["1h"] and "--dry-run" in line.seen
    line = parse(SPEC, ["enable-cascade", "--dry-run", "server"])
    assert line.values["--dry-run"] == "server" and line.positional == []


def test_parse_reads_namespace_context_and_kubeconfig_forms() -> None:
    line = parse(SPEC, ["--kubeconfig=/k", "reclaim", "-ndb", "--context", "c", "redis-2"])
    assert line.path == ["reclaim"]
    assert line.values == {"--kubeconfig": "/k", "--namespace": "db", "--context": "c"}
    assert line.positional == ["redis-2"]
    line = parse(SPEC, ["describe", "--namespace=web", "--", "-odd-name"])
    assert line.values["--namespace"] == "web" and line.positional == ["-odd-name"]


def test_cluster_values_are_asked_for_with_the_line() -> None:
    rec = Recorder({"namespace": ["db", "default", "web"], "context": ["prod", "staging"]})
    assert values(["list", "-n", "d"], rec)[0] == ["db", "default"]
    assert values(["--context", ""], rec)[0] == ["prod", "staging"]
    assert values(["--namespace=w"], rec)[0] == ["--namespace=web"]
    assert [k for k, _ in rec.asked] == ["namespace", "context", "namespace"]


def test_claim_arguments() -> None:
    rec = Recorder({"reclaimable-claim": ["redis-2", "redis-3"], "claim": ["mysql-0", "redis-2"]})
    assert values(["reclaim", "-n", "db", ""], rec)[0] == ["redis-2", "redis-3"]
    kind, line = rec.asked[-1]
    assert kind == "reclaimable-claim" and line.values["--namespace"] == "db"
    # reclaim takes many names, each once; describe takes one
    assert values(["reclaim", "redis-2", ""], rec)[0] == ["redis-3"]
    assert values(["describe", "my"], rec)[0] == ["mysql-0"]
    assert values(["describe", "mysql-0", ""], rec) == ([], NO_FILE_COMP)


def test_answer_format() -> None:
    text = format_answer([("redis-2", "Orphaned  10.0.1.7"), ("a\tb", "")], NO_FILE_COMP)
    assert text == "redis-2\tOrphaned 10.0.1.7\na b\n:4\n"
    hostile = format_answer([("x\x1b[2J", "\x1b]8;;http://e\x07 d")], NO_FILE_COMP)
    assert hostile == "x\\x1b[2J\t\\x1b]8;;http://e\\x07 d\n:4\n"


def test_static_answers_import_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from kubectl_vip.cli.complete_plugin import complete\n"
        "complete(['list', '-o', ''])\n"
        "heavy = {'typer', 'rich', 'kubernetes', 'urllib3', 'pydantic'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------- dynamic answers


def test_reclaimable_claims_from_the_cluster(kubeconfig: Path) -> None:
    line = parse(SPEC, ["--kubeconfig", str(kubeconfig), "reclaim", "-n", "db"])
    assert fetch_dynamic("reclaimable-claim", line) == []  # redis-2, -3 return if scaled up
    # ... unless its controller has kept its count long enough for the user
    line = parse(
        SPEC, ["--kubeconfig", str(kubeconfig), "reclaim", "-n", "db", "--scaled-in-for", "24h"]
    )
    got = fetch_dynamic("reclaimable-claim", line)
    assert got == [("redis-2", "ScaledIn 10.0.1.7"), ("redis-3", "ScaledIn 10.0.1.8")]
    line = parse(
        SPEC, ["--kubeconfig", str(kubeconfig), "reclaim", "-n", "db", "--scaled-in-for", "30d"]
    )
    assert fetch_dynamic("reclaimable-claim", line) == []  # not valid Go: no permission
    # the context's namespace (default) when -n is not given
    line = parse(SPEC, ["--kubeconfig", str(kubeconfig), "reclaim"])
    assert [n for n, _ in fetch_dynamic("reclaimable-claim", line)] == ["canary-0", "debug-shell"]
    # --include-completed widens the set as reclaim would
    line = parse(SPEC, ["--kubeconfig", str(kubeconfig), "reclaim", "-n", "jobs"])
    assert [n for n, _ in fetch_dynamic("reclaimable-claim", line)] == [
        "etl-worker-0",
        "etl-worker-1",
    ]
    line = parse(
        SPEC, ["--kubeconfig", str(kubeconfig), "reclaim", "--include-completed", "-njobs"]
    )
    assert "report-20261120" in [n for n, _ in fetch_dynamic("reclaimable-claim", line)]
    # names need one namespace
    line = parse(SPEC, ["--kubeconfig", str(kubeconfig), "reclaim", "-A"])
    assert fetch_dynamic("reclaimable-claim", line) == []


def test_claims_namespaces_and_contexts(kubeconfig: Path) -> None:
    line = parse(SPEC, ["--kubeconfig", str(kubeconfig), "describe", "-n", "db"])
    names = [n for n, _ in fetch_dynamic("claim", line)]
    assert names[:3] == ["analytics-0", "mysql-0", "mysql-1"] and "redis-3" in names
    spaces = [n for n, _ in fetch_dynamic("namespace", line)]
    assert {"db", "default", "jobs", "web", "kube-system"} <= set(spaces)
    assert kubeconfig_contexts(str(kubeconfig)) == ["vip-sandbox", "vip-sandbox-readonly"]
    line = parse(SPEC, ["--kubeconfig", str(kubeconfig), "--context", "vip-sandbox-readonly"])
    assert [n for n, _ in fetch_dynamic("context", line)] == kubeconfig_contexts(str(kubeconfig))


def test_cluster_failures_are_silent_and_bounded(tmp_path: Path, sandbox: Sandbox) -> None:
    missing = parse(SPEC, ["--kubeconfig", str(tmp_path / "nope"), "reclaim"])
    assert fetch_dynamic("reclaimable-claim", missing) == []
    assert kubeconfig_contexts(str(tmp_path / "nope")) == []
    # a server that accepts connections and never answers: the deadline ends it
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    try:
        kc = sandbox.kubeconfig()
        kc["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{srv.getsockname()[1]}"
        import yaml

        path = tmp_path / "hang.kubeconfig"
        path.write_text(yaml.safe_dump(kc))
        t0 = time.monotonic()
        assert fetch_dynamic("namespace", parse(SPEC, ["--kubeconfig", str(path)])) == []
        assert time.monotonic() - t0 < DEADLINE + 1.0
    finally:
        srv.close()


def test_helper_executable(kubeconfig: Path) -> None:
    exe = BIN / "kubectl_complete-vip"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    p = subprocess.run(
        [str(exe), "reclaim", "-n", "web", "legacy-api-0", ""],
        capture_output=True,
        text=True,
        env=env,
    )
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout == "api-old-7\tRetained\nlegacy-api-1\tOrphaned 10.0.1.13\n:4\n"
    p = subprocess.run([str(exe)], capture_output=True, text=True, env=env)
    assert p.stdout.splitlines()[-1] == ":4" and "list" in p.stdout


# ------------------------------------------------------------------------- through kubectl


def test_kubectl_completes_the_plugin_subcommands(kubectl: Runner) -> None:
    r = kubectl("__complete", "vip", "re")
    assert r.code == 0, r.stderr
    assert r.lines[0].split("\t")[0] == "reclaim"
    assert r.lines[-1] == ":4"


def test_kubectl_completes_reclaimable_claims(kubectl: Runner) -> None:
    r = kubectl("__complete", "vip", "reclaim", "-n", "web", "")
    assert r.code == 0, r.stderr
    assert [x.split("\t")[0] for x in r.lines] == [
        "api-old-7",
        "legacy-api-0",
        "legacy-api-1",
        ":4",
    ]
    r = kubectl("__complete", "vip", "reclaim", "-n", "db", "--scaled-in-for", "48h", "")
    assert [x.split("\t")[0] for x in r.lines] == ["redis-2", "redis-3", ":4"]
    # the context's namespace is default: its Retained/Expiring claims
    r = kubectl("__complete", "vip", "reclaim", "")
    assert [x.split("\t")[0] for x in r.lines] == ["canary-0", "debug-shell", ":4"]


def test_kubectl_completes_namespaces_and_flags(kubectl: Runner) -> None:
    r = kubectl("__complete", "vip", "list", "-n", "")
    assert {"db", "default", "jobs", "web"} <= {x.split("\t")[0] for x in r.lines}
    r = kubectl("__complete", "vip", "list", "--sta")
    assert [x.split("\t")[0] for x in r.lines] == ["--state", ":4"]
    assert "Only rows in this state" in r.lines[0]


# ------------------------------------------------------------------------- the bash script


def bash_complete(line: str, tmp_path: Path, path: str | None = None) -> list[str]:
    """Run the shipped bash function as bash's completion would, for the words in `line`."""
    driver = tmp_path / "drive.sh"
    driver.write_text(
        'source "$1"\n'
        "COMP_LINE=$2; COMP_POINT=${#COMP_LINE}\n"
        # bash splits words at COMP_WORDBREAKS (= and : among them) as well as blanks
        'IFS=" " read -r -a COMP_WORDS <<<"${COMP_LINE//=/ = }"\n'
        '[[ $COMP_LINE == *" " || $COMP_LINE == *"=" ]] && COMP_WORDS+=("")\n'
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
        "_kubectl_vip\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    env = {**os.environ, "PATH": path if path is not None else f"{BIN}{os.pathsep}/usr/bin:/bin"}
    script = ROOT / "completions" / "kubectl-vip.bash"
    bash = shutil.which("bash") or "/bin/bash"
    p = subprocess.run(
        [bash, str(driver), str(script), line], capture_output=True, text=True, env=env
    )
    assert p.returncode == 0, p.stderr
    return [x for x in p.stdout.splitlines() if x]


def test_bash_script(tmp_path: Path, kubeconfig: Path) -> None:
    assert bash_complete("kubectl-vip rec", tmp_path) == ["reclaim"]
    assert bash_complete("kubectl-vip list -o ya", tmp_path) == ["yaml"]
    # after '=' bash replaces only the part behind it
    assert bash_complete("kubectl-vip list --state=Or", tmp_path) == ["Orphaned"]
    line = f"kubectl-vip --kubeconfig {kubeconfig} reclaim -n db --scaled-in-for 24h "
    assert bash_complete(line, tmp_path) == ["redis-2", "redis-3"]


def test_bash_script_falls_back_to_subcommands_without_a_helper(tmp_path: Path) -> None:
    assert bash_complete("kubectl-vip de", tmp_path, path="/nonexistent") == ["describe"]


def test_zsh_and_fish_scripts_register_for_kubectl_vip() -> None:
    zsh = (ROOT / "completions" / "_kubectl-vip").read_text()
    assert zsh.startswith("#compdef kubectl-vip\n") and "compdef _kubectl-vip kubectl-vip" in zsh
    fish = (ROOT / "completions" / "kubectl-vip.fish").read_text()
    assert "complete -c kubectl-vip -f -a '(__kubectl_vip_complete)'" in fish
    for text in (zsh, fish):
        assert "kubectl_complete-vip" in text and "__complete" in text
        assert " ".join(SPEC["commands"]) in text  # the fallback list is the current one


def test_state_values_follow_the_view_and_check_ids_complete(kubectl: Runner) -> None:
    """`list --ips --state <TAB>` offers the IP view's states too; `doctor --check <TAB>` ids."""
    plain = kubectl("__complete", "vip", "list", "--state", "")
    ips = kubectl("__complete", "vip", "list", "--ips", "--state", "")
    assert "Leaked" not in {x.split("\t")[0] for x in plain.lines}
    assert {"Leaked", "Attaching", "Orphaned"} <= {x.split("\t")[0] for x in ips.lines}
    r = kubectl("__complete", "vip", "doctor", "--check", "VIP-ENI")
    got = [x.split("\t")[0] for x in r.lines if not x.startswith(":")]
    assert got and all(x.startswith("VIP-ENI-") for x in got) and "VIP-ENI-001" in got
