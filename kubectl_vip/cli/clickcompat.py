"""The click exceptions typer raises: newer typer vendors click as `typer._click`."""

from __future__ import annotations

try:
    from typer._click import exceptions as click_exceptions  # typer >= 0.2x
except ImportError:  # pragma: no cover - older typer depends on click itself
    from click import exceptions as click_exceptions  # type: ignore[no-redef,import-not-found,unused-ignore]

UsageError = click_exceptions.UsageError
ClickException = click_exceptions.ClickException
Abort: type[BaseException] = getattr(click_exceptions, "Abort", KeyboardInterrupt)
NoArgsIsHelpError = getattr(click_exceptions, "NoArgsIsHelpError", None)

__all__ = ["Abort", "ClickException", "NoArgsIsHelpError", "UsageError"]
