"""Keeping the bot token out of every output: log lines, tracebacks, error messages.

PTB puts the token in every request URL (``…/bot<token>/getMe``), so any exception or
debug line that quotes a URL quotes the token. :func:`install_token_redaction` replaces it
with ``<token>`` in everything the process writes through ``sys.stdout``/``sys.stderr``
(tracebacks included) and in every log handler's output, whatever its destination.
"""

from __future__ import annotations

import io
import logging
import sys
from typing import TextIO
from urllib.parse import quote

REDACTED = "<token>"
_MIN_SECRET = 8  # shorter secrets (test tokens like "1:x") are only redacted whole


def token_forms(token: str) -> tuple[str, ...]:
    """The strings to hide, longest first: the token, its URL-quoted form, and its secret
    part alone (after the colon) when long enough not to match ordinary text."""
    token = token.strip()
    if not token:
        return ()
    forms = {token, quote(token, safe=""), quote(token)}
    _, _, secret = token.partition(":")
    if len(secret) >= _MIN_SECRET:
        forms.add(secret)
    return tuple(sorted(forms, key=len, reverse=True))


class TokenRedactor:
    """Replaces every known form of the token in a string."""

    def __init__(self, token: str) -> None:
        self.forms = token_forms(token)

    def add(self, token: str) -> None:
        """Redact another token too (a deployment runs one bot per token)."""
        forms = set(self.forms) | set(token_forms(token))
        self.forms = tuple(sorted(forms, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for form in self.forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text


class RedactingStream(io.TextIOBase):
    """A text stream that writes to ``target`` with the token removed."""

    def __init__(self, target: TextIO, redact: TokenRedactor) -> None:
        self._target = target
        self._redact = redact

    def write(self, text: str) -> int:
        self._target.write(self._redact(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return self._target.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._target.encoding


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's formatter: the formatted record (traceback included) is redacted."""

    def __init__(self, inner: logging.Formatter | None, redact: TokenRedactor) -> None:
        super().__init__()
        self._inner = inner or logging.Formatter()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(self._inner.format(record))


def redact_log_handlers(redact: TokenRedactor, logger: logging.Logger | None = None) -> None:
    """Put every handler of ``logger`` (default: the root logger) behind the redactor."""
    for handler in (logger or logging.getLogger()).handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(RedactingFormatter(handler.formatter, redact))


def install_token_redaction(token: str) -> TokenRedactor:
    """Redact ``token`` from stdout, stderr (uncaught tracebacks go there) and the log
    handlers present now; call :func:`redact_log_handlers` again after adding handlers.
    Called again with another token, the installed redactor removes both."""
    if isinstance(sys.stdout, RedactingStream):
        installed = sys.stdout._redact
        installed.add(token)
        redact_log_handlers(installed)
        return installed
    redact = TokenRedactor(token)
    if not redact.forms:
        return redact
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout, redact)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr, redact)
    redact_log_handlers(redact)
    return redact
