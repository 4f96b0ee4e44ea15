"""`python -m kubectl_vip` and the `kubectl-vip` console script."""

from __future__ import annotations

import sys


def main() -> None:
    # `--version` answers before anything heavy is imported: it is what plugin managers probe
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        print(f"kubectl-vip {__version__}")
        return
    from .cli.app import run

    run()


if __name__ == "__main__":
    main()
