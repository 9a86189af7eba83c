"""Logging set-up shared by the daemon and the CLI: secrets never reach a log.

pygls logs whole messages at INFO and DEBUG (the initialize params, with the
editor's `initializationOptions`, among them), so every record is scrubbed.
"""

from __future__ import annotations

import logging

from .redaction import redact


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
