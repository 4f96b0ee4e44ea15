"""`python -m kubectl_vip`; the console script `kubectl-vip` is `kubectl_vip.__main__:main`."""

from __future__ import annotations

from .cli.entry import main

__all__ = ["main"]

if __name__ == "__main__":
    main()
