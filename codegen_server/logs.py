"""Logging set-up shared by the daemon and the CLI: secrets never reach a log.

pygls logs whole messages at INFO and DEBUG (the initialize params, with the
editor's `initializationOptions`, among them), so every record is scrubbed.
"""

from __future__ import annotations

import logging
import sys

from .redaction import redact
from .trust.notices import LOGGER_NAME


class RedactSecrets(logging.Filter):
    """Blanks secrets in every record, tracebacks included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(level: str = "WARNING", log_file: str | None = None) -> None:
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level), handlers=[handler], force=True)


class _PlainWarnings(logging.Handler):
    """`codegen: warning: ...` on stderr: a line for the user, not a log record."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(f"codegen: warning: {redact(record.getMessage())}", file=sys.stderr)
        except Exception:  # stderr closed: nothing better to do, as logging itself does
            self.handleError(record)


def trust_notices_to_stderr() -> None:
    """The CLI: each warning about ignored workspace state (`codegen.trust`) as a plain line on stderr."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(handler, _PlainWarnings) for handler in logger.handlers):
        logger.addHandler(_PlainWarnings(logging.WARNING))
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # not a second time in the timestamped log format
