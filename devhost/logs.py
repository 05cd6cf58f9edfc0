"""One log format for the host process and its HTTP workers."""

from __future__ import annotations

import logging
import os

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str | None = None) -> None:
    chosen = (level or os.environ.get("DEVHOST_LOG_LEVEL") or "INFO").upper()
    logging.basicConfig(level=chosen, format=FORMAT)
    # The SDKs log every request at INFO; the host's own console does not.
    logging.getLogger("azure").setLevel(logging.WARNING)
