"""The one rule for whether the tests run under CI."""

from __future__ import annotations

import os


def under_ci() -> bool:
    """True when ``CI`` is set to 1, true or yes (any case), as CI services set it."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
