"""Keep credentials out of every message: tokens, passwords, header values, proxy passwords.

Loading a kubeconfig remembers the secrets it handles (`remember`); `redact` replaces them, and
anything shaped like an Authorization value or a URL's password, with `<redacted>`. The CLI
passes every error line and `-v` traceback through it, so an exception that quotes a header
(`Invalid header value b'Bearer ...'`) cannot print the token.
"""

from __future__ import annotations

import re
import threading

REDACTED = "<redacted>"
MIN_SECRET = 6  # shorter values would blank out ordinary words

_lock = threading.Lock()
_known: set[str] = set()

_PATTERNS = (
    # an Authorization / Proxy-Authorization value: the scheme stays, the credential goes
    # (case-sensitive, and only a token-like word: "basic checks" is not a credential)
    re.compile(r"\b(Bearer|bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # user:password@ in a URL
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]+(@)"),
)


def remember(*values: object) -> None:
    """Secrets to blank out of every later message (empty and very short values are ignored)."""
    with _lock:
        for v in values:
            if isinstance(v, str) and len(v.strip()) >= MIN_SECRET:
                _known.add(v)
                _known.add(v.strip())


def redact(text: str) -> str:
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
        # the repr of a value (as in `b'Bearer abc\n'`) escapes what str() shows raw
        escaped = repr(secret)[1:-1]
        if escaped != secret and escaped in text:
            text = text.replace(escaped, REDACTED)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _PATTERNS[1].sub(lambda m: f"{m.group(1)}{REDACTED}{m.group(2)}", text)


def forget_all() -> None:
    """Tests: start from nothing remembered."""
    with _lock:
        _known.clear()
