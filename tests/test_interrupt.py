"""Ctrl-C during a bulk delete is a request (a flag), not an exception raised inside threading's
lock handling; and whatever an interruption breaks on the way out ends as "interrupted"."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from kubectl_vip import interrupt
from kubectl_vip.cli.outcome import exit_code_for
from kubectl_vip.interrupt import InterruptFlag
from kubectl_vip.term.render import Out


@pytest.fixture(autouse=True)
def _default_sigint() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupt._seen = False
    yield
    signal.signal(signal.SIGINT, previous)
    interrupt._seen = False


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread at the next bytecode


def test_first_ctrl_c_only_raises_the_flag_and_a_second_one_interrupts() -> None:
    with InterruptFlag() as flag:
        _ctrl_c()
        assert flag.requested
        with pytest.raises(KeyboardInterrupt):
            _ctrl_c()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    assert interrupt.seen()


def test_an_ignored_sigint_stays_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with InterruptFlag() as flag:
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        _ctrl_c()
        assert not flag.requested
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_off_the_main_thread_nothing_is_installed() -> None:
    got: list[object] = []

    def other() -> None:
        with InterruptFlag():
            got.append(signal.getsignal(signal.SIGINT))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert got == [signal.default_int_handler]


def test_an_error_after_a_ctrl_c_is_reported_as_the_interruption(
    capsys: pytest.CaptureFixture[str],
) -> None:
    interrupt.record_interrupts()
    with pytest.raises(KeyboardInterrupt):
        _ctrl_c()
    code = exit_code_for(RuntimeError("release unlocked lock"), Out(), False)
    assert code == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "RuntimeError" not in err


def test_without_a_ctrl_c_an_unexpected_error_stays_unexpected(
    capsys: pytest.CaptureFixture[str],
) -> None:
    interrupt.record_interrupts()
    assert exit_code_for(RuntimeError("boom"), Out(), False) == 1
    assert "unexpected RuntimeError: boom" in capsys.readouterr().err
