"""Logging set-up shared by the daemon and the CLI: secrets never reach a log."""

from __future__ import annotations

import logging
import os
import re

_KEY_SHAPES = re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}")


class RedactSecrets(logging.Filter):
    """Blanks API keys (the configured ones and anything shaped like one) in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        secrets = [v for k, v in os.environ.items() if k.endswith("API_KEY") and v]
        cleaned = _KEY_SHAPES.sub("[redacted]", message)
        for secret in secrets:
            cleaned = cleaned.replace(secret, "[redacted]")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str = "WARNING", log_file: str | None = None) -> None:
    handler: logging.Handler = logging.FileHandler(log_file) if log_file else logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=getattr(logging, level), handlers=[handler], force=True)
