"""What every test shares: the repository on sys.path, local.settings.json values as defaults in
the environment, and `reset_caches()`. Nothing here needs the emulators: `make unit` runs
tests/unit with them stopped. The emulators, isolated resources and the live host are fixtures of
tests/integration/conftest.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOCAL_SETTINGS = json.loads((ROOT / "local.settings.json").read_text())["Values"]


def _apply_local_settings() -> None:
    for key, value in LOCAL_SETTINGS.items():
        os.environ.setdefault(key, value)


_apply_local_settings()


def reset_caches() -> None:
    from shared import wiring

    wiring.reset()
