"""local.settings.json -> os.environ, and `%NAME%` setting references, as `func start` does."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_REFERENCE = re.compile(r"%([^%]+)%")


class SettingMissing(LookupError):
    """A `%NAME%` reference names a setting that is not set (the host refuses such a function)."""


def read_local_settings(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The whole file, or {} when it is absent (func warns and goes on)."""
    file = Path(path)
    if not file.exists():
        log.warning("%s not found: using the environment only", file)
        return {}
    data = json.loads(file.read_text(encoding="utf-8-sig"))  # VS writes a BOM
    if not isinstance(data, dict):
        raise ValueError(f"{file}: expected a JSON object")
    if data.get("IsEncrypted"):
        raise ValueError(f"{file}: encrypted settings need Core Tools to decrypt")
    return data


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def load_local_settings(path: str | os.PathLike[str] = "local.settings.json") -> dict[str, str]:
    """Copy "Values" into os.environ without overriding variables already set; return them."""
    values = {k: _as_text(v) for k, v in read_local_settings(path).get("Values", {}).items()}
    for name, value in values.items():
        os.environ.setdefault(name, value)
    return values


def host_section(path: str | os.PathLike[str] = "local.settings.json") -> dict[str, Any]:
    """The "Host" block (LocalHttpPort, CORS, CORSCredentials)."""
    section = read_local_settings(path).get("Host", {})
    return section if isinstance(section, dict) else {}


def resolve(value: str) -> str:
    """Replace each `%NAME%` with the setting NAME, as the host does for binding expressions."""

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise SettingMissing(f"'%{name}%' does not resolve to a value (setting {name} unset)")
        return os.environ[name]

    return _REFERENCE.sub(lookup, value)


def is_disabled(function_name: str) -> bool:
    """`AzureWebJobs.<name>.Disabled=true` switches a function off in the real host too."""
    flag = os.environ.get(f"AzureWebJobs.{function_name}.Disabled", "")
    return flag.strip().lower() in ("true", "1")
