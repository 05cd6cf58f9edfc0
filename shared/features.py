"""Personalizer feature JSON -> Vowpal Wabbit text-format lines for ``--cb_explore_adf``.

Input is the already-parsed JSON of a Personalizer request: ``contextFeatures`` and each action's
``features`` are lists of JSON objects. One rank request becomes one multi-line VW example: a
``shared`` line for the context, then one line per action (see :func:`examples`).

Conversion rules
----------------
* Each element of the list must be a JSON object. Each of its top-level keys names a namespace
  whose value must be an object; its features are written as ``|name f1 f2 ...``. The same
  namespace appearing in several elements (or several times) is merged: features are appended in
  order, and the namespace keeps the position where it first appeared.
* A top-level key whose value is *not* an object (a string, number, boolean, null or array) is a
  feature of VW's default namespace, named after the key: ``[{"price": 3}]`` gives ``| price:3``.
  VW gives the default namespace the index ``" "``; ``-q ::`` crosses it like any other.
* Inside a namespace, with ``name`` the (escaped) key path:

  - string ``"v"``: one-hot feature ``name=v`` (value escaped too);
  - integer or float: ``name:value`` (compact repr: ``3``, ``0.25``, ``1e-07``). NaN and
    infinities are rejected, and so are magnitudes above the 32-bit float range, which VW would
    silently read as infinity;
  - ``true``: the bare flag ``name``; ``false`` and ``null``: nothing (VW JSON semantics);
  - object: flattened with ``.`` (``{"a": {"b": "x"}}`` gives ``a.b=x``);
  - array: strings give one ``name=v`` each; numbers give ``name[i]:value`` (``i`` the 0-based
    index); ``true`` gives the flag ``name[i]``; objects flatten under ``name[i].``; nested
    arrays use ``name[i]`` as their name, recursively.
* Keys starting with ``_`` are ignored at every level, namespaces included (Personalizer
  convention). Empty keys and non-string keys are rejected with :class:`FeatureError`.
* Namespace names, feature names and string values are escaped with :func:`escape`, so any
  Unicode text survives. VW uses the first *byte* of the escaped namespace name as its index for
  ``-q``; note that VW 9's ``-q ::`` wildcard only expands to printable ASCII indices, so a
  namespace whose name starts with a non-ASCII character is never crossed by it.
* Subclasses of the JSON types (IntEnum, OrderedDict, tuples, float subclasses...) are treated as
  the JSON type; any other value type is rejected with :class:`FeatureError`.
* Output is deterministic: dict insertion order is the output order.

The feature count returned with each line is the number of feature tokens written; it lets
callers reject a context without features. It counts ``name:0`` tokens, which VW itself skips.

Escaped keys and strings up to 64 characters, and formatted floats, are memoised in bounded
module-level dicts (each cleared when it reaches 65,536 entries): names and categorical values
repeat across requests, and a dict hit is several times cheaper than scanning or formatting. The
memos change no output (both zeros always print as ``0``).

This module is on the rank hot path: plain functions, no per-feature objects, no regex. It imports
neither ``azure.functions`` nor ``vowpalwabbit``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import orjson

# The version of the conversion rules above. Every decision event names the version its features
# were served with; a change to the rules that changes any output line must bump it, so that the
# learner never trains an event with features other than those it was ranked with.
VERSION = 1

__all__ = [
    "VERSION",
    "FeatureError",
    "action_line",
    "cached_action_line",
    "context_line",
    "escape",
    "examples",
    "label_prefix",
]


class FeatureError(ValueError):
    """Structurally invalid feature input; the message says where, e.g.
    ``actions[3].features[0].color: numbers must be finite``."""


class _Bad(Exception):
    """Internal: a problem at ``name`` (escaped path inside one list element)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name, reason)
        self.name = name
        self.reason = reason


# Largest finite float32; VW stores feature values as float and reads anything larger as inf.
_F32_MAX = 3.4028234663852886e38

_ESCAPES = {"%": "%25", " ": "%20", "\t": "%09", "\n": "%0A", "\r": "%0D", "|": "%7C", ":": "%3A"}
# Identity entries for all of ASCII keep str.translate from raising (and swallowing) a
# LookupError for every unmapped character.
_TABLE: dict[int, str] = {i: chr(i) for i in range(128)}
_TABLE.update({ord(char): code for char, code in _ESCAPES.items()})

_CACHE_MAX = 1 << 16
_CACHE_TOKEN_MAX = 64
# escaped strings (values and names), keyed by the raw string
_CACHE: dict[str, str] = {}
_cache_get = _CACHE.get
# escaped keys, "" for ignored ("_"-prefixed) keys; only valid non-empty str keys get in
_KEYS: dict[str, str] = {}
_key_get = _KEYS.get
# formatted floats
_FLOATS: dict[float, str] = {}
_float_get = _FLOATS.get

# The default namespace: written as "| feature ..." (VW index " "). Escaped namespace names are
# never empty, so "" cannot collide with a real namespace.
_DEFAULT_NS = ""


def _escape_new(token: str) -> str:
    """Escape ``token`` (a cache miss) and remember short results."""
    if (
        "%" in token
        or " " in token
        or ":" in token
        or "|" in token
        or "\t" in token
        or "\n" in token
        or "\r" in token
    ):
        out = token.translate(_TABLE)
    else:
        out = token
    if 0 < len(token) <= _CACHE_TOKEN_MAX:
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[token] = out
    return out


def escape(token: str) -> str:
    """Percent-encode the characters VW text format cannot carry inside a name or value.

    ``%`` -> ``%25``, space -> ``%20``, tab -> ``%09``, LF -> ``%0A``, CR -> ``%0D``,
    ``|`` -> ``%7C``, ``:`` -> ``%3A``; everything else (Unicode included) passes through.
    ``urllib.parse.unquote(escape(s)) == s`` for every string ``s``.
    """
    out = _cache_get(token)
    return out if out is not None else _escape_new(token)


def _new_key(key: object, prefix: str) -> str:
    """Validate and escape a key that missed the key cache; ``""`` for an ignored key.
    ``prefix`` (escaped path ending in ``.``, or ``""``) is only for messages."""
    if not isinstance(key, str):
        raise _Bad(prefix[:-1], f"keys must be strings, got {type(key).__name__}")
    if not key:
        raise _Bad(prefix[:-1], "keys must not be empty")
    key = str.__str__(key)
    out = "" if key[0] == "_" else escape(key)
    if len(key) <= _CACHE_TOKEN_MAX:
        if len(_KEYS) >= _CACHE_MAX:
            _KEYS.clear()
        _KEYS[key] = out
    return out


def _range_reason(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "numbers must be finite"
    return "numbers must be within the 32-bit float range (about ±3.4e38)"


def _float(value: float) -> str:
    """Shortest round-trip repr without a trailing ``.0``; both zeros print as ``0``."""
    text = _float_get(value)
    if text is None:
        if value == 0.0:
            return "0"
        text = repr(value)
        if text[-2:] == ".0":
            text = text[:-2]
        if len(_FLOATS) >= _CACHE_MAX:
            _FLOATS.clear()
        _FLOATS[value] = text
    return text


def _normalize(value: object, name: str) -> Any:
    """Map subclasses of the JSON types (IntEnum, StrEnum, OrderedDict, tuples, numpy floats...)
    to the exact built-in type, or reject the value."""
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise _Bad(name, f"unsupported value type {type(value).__name__}")


def _walk_dict(out: list[str], prefix: str, obj: dict[Any, Any]) -> None:
    """Append the features of ``obj``; ``prefix`` is ``""`` or an escaped path ending in ``.``."""
    for key, value in obj.items():
        ekey = _key_get(key)
        if not ekey:
            if ekey is None:
                ekey = _new_key(key, prefix)
            if not ekey:
                continue
        kind = type(value)
        if kind is str:
            evalue = _cache_get(value)
            if evalue is None:
                evalue = _escape_new(value)
            out.append(f"{prefix}{ekey}={evalue}")
        elif kind is bool:
            if value:
                out.append(prefix + ekey)
        elif kind is int:
            if not -_F32_MAX <= value <= _F32_MAX:
                raise _Bad(prefix + ekey, _range_reason(value))
            out.append(f"{prefix}{ekey}:{value}")
        elif kind is float:
            if not -_F32_MAX <= value <= _F32_MAX:
                raise _Bad(prefix + ekey, _range_reason(value))
            out.append(f"{prefix}{ekey}:{_float(value)}")
        elif value is not None:
            name = prefix + ekey
            _emit(out, name, value, name)


def _walk_list(out: list[str], name: str, arr: list[Any]) -> None:
    """Append the features of array ``arr`` named ``name`` (escaped)."""
    for index, item in enumerate(arr):
        kind = type(item)
        if kind is str:
            evalue = _cache_get(item)
            if evalue is None:
                evalue = _escape_new(item)
            out.append(f"{name}={evalue}")
        elif kind is bool:
            if item:
                out.append(f"{name}[{index}]")
        elif kind is int:
            if not -_F32_MAX <= item <= _F32_MAX:
                raise _Bad(f"{name}[{index}]", _range_reason(item))
            out.append(f"{name}[{index}]:{item}")
        elif kind is float:
            if not -_F32_MAX <= item <= _F32_MAX:
                raise _Bad(f"{name}[{index}]", _range_reason(item))
            out.append(f"{name}[{index}]:{_float(item)}")
        elif item is not None:
            _emit(out, f"{name}[{index}]", item, name)


def _emit(out: list[str], name: str, value: Any, string_name: str) -> None:
    """Append the feature(s) of one value of any JSON type. ``name`` names numbers, flags and
    nested containers; ``string_name`` names strings (the two differ for array items)."""
    kind = type(value)
    if kind is dict:
        _walk_dict(out, name + ".", value)
        return
    if kind is list:
        _walk_list(out, name, value)
        return
    if kind not in (str, bool, int, float) and value is not None:
        value = _normalize(value, name)
        kind = type(value)
    if kind is str:
        out.append(f"{string_name}={escape(value)}")
    elif kind is bool:
        if value:
            out.append(name)
    elif kind is int or kind is float:
        if not -_F32_MAX <= value <= _F32_MAX:
            raise _Bad(name, _range_reason(value))
        out.append(f"{name}:{value if kind is int else _float(value)}")
    elif kind is dict:
        _walk_dict(out, name + ".", value)
    elif kind is list:
        _walk_list(out, name, value)


def _location(where: str, index: int, namespace: str | None, exc: _Bad) -> str:
    parts = [f"{where}[{index}]"]
    if namespace is not None:
        parts.append(namespace)
    if exc.name:
        parts.append(unquote(exc.name))
    return f"{'.'.join(parts)}: {exc.reason}"


def _namespaces(features: Sequence[object], where: str) -> tuple[list[str], int]:
    """Convert a feature list into line parts (``"|ns"`` headers followed by their feature
    tokens, to be joined with spaces) and the feature count."""
    if type(features) is not list and not isinstance(features, (list, tuple)):
        raise FeatureError(f"{where} must be a JSON array")
    # namespace -> ["|ns", token, ...]; the default namespace's header "|" joins as "| token"
    spaces: dict[str, list[str]] = {}
    for raw in features:
        element = raw
        if type(element) is not dict:
            if not isinstance(element, Mapping):
                raise FeatureError(f"{where}[{_index_of(features, raw)}] must be a JSON object")
            element = dict(element)
        try:
            for key, value in element.items():
                ekey = _key_get(key)
                if not ekey:
                    if ekey is None:
                        try:
                            ekey = _new_key(key, "")
                        except _Bad as exc:
                            index = _index_of(features, raw)
                            raise FeatureError(_location(where, index, None, exc)) from None
                    if not ekey:
                        continue
                if type(value) is not dict:
                    if value is None:
                        continue
                    if not isinstance(value, Mapping):
                        tokens = spaces.get(_DEFAULT_NS)
                        if tokens is None:
                            tokens = spaces[_DEFAULT_NS] = ["|"]
                        _emit(tokens, ekey, value, ekey)
                        continue
                    value = dict(value)
                tokens = spaces.get(ekey)
                if tokens is None:
                    tokens = spaces[ekey] = ["|" + ekey]
                # _walk_dict(tokens, "", value), inlined: this loop sees nearly every feature
                for fkey, fvalue in value.items():
                    name = _key_get(fkey)
                    if not name:
                        if name is None:
                            name = _new_key(fkey, "")
                        if not name:
                            continue
                    kind = type(fvalue)
                    if kind is str:
                        evalue = _cache_get(fvalue)
                        if evalue is None:
                            evalue = _escape_new(fvalue)
                        tokens.append(f"{name}={evalue}")
                    elif kind is bool:
                        if fvalue:
                            tokens.append(name)
                    elif kind is int:
                        if not -_F32_MAX <= fvalue <= _F32_MAX:
                            raise _Bad(name, _range_reason(fvalue))
                        tokens.append(f"{name}:{fvalue}")
                    elif kind is float:
                        if not -_F32_MAX <= fvalue <= _F32_MAX:
                            raise _Bad(name, _range_reason(fvalue))
                        tokens.append(f"{name}:{_float(fvalue)}")
                    elif fvalue is not None:
                        _emit(tokens, name, fvalue, name)
        except _Bad as exc:
            namespace = key if isinstance(value, Mapping) else None
            index = _index_of(features, raw)
            raise FeatureError(_location(where, index, namespace, exc)) from None
    if len(spaces) == 1:
        (parts,) = spaces.values()
        count = len(parts) - 1
        return (parts, count) if count else ([], 0)
    parts = []
    headers = 0
    for tokens in spaces.values():
        if len(tokens) > 1:
            parts += tokens
            headers += 1
    return parts, len(parts) - headers


def _index_of(features: Sequence[object], element: object) -> int:
    """Position of ``element`` in ``features`` (error messages only; saves an enumerate)."""
    for index, item in enumerate(features):
        if item is element:
            return index
    return -1


def context_line(features: Sequence[object], where: str = "contextFeatures") -> tuple[str, int]:
    """The ``shared`` line for a context and its feature count.

    ``[{"user": {"tier": "gold"}}, {"hour": 20}]`` -> ``("shared |user tier=gold | hour:20", 2)``.
    Without features the line is ``"shared |"`` (count 0). ``where`` prefixes error messages.
    """
    parts, count = _namespaces(features, where)
    if not count:
        return "shared |", 0
    return "shared " + " ".join(parts), count


def action_line(features: Sequence[object], where: str = "actions[i].features") -> tuple[str, int]:
    """One action's line (no label) and its feature count; ``"|"`` when it has no features."""
    parts, count = _namespaces(features, where)
    if not count:
        return "|", 0
    return " ".join(parts), count


def label_prefix(cost: float, probability: float) -> str:
    """The cb_adf label ``"0:{cost}:{probability} "`` for the chosen action's line.

    Raises ``ValueError`` unless ``cost`` is finite and ``0 < probability <= 1``.
    """
    if isinstance(cost, bool) or not -_F32_MAX <= cost <= _F32_MAX:
        raise ValueError(f"cost must be a finite number, got {cost!r}")
    if isinstance(probability, bool) or not 0.0 < probability <= 1.0:
        raise ValueError(f"probability must be in (0, 1], got {probability!r}")
    c = str(cost) if type(cost) is int else _float(float(cost))
    p = str(probability) if type(probability) is int else _float(float(probability))
    return f"0:{c}:{p} "


def examples(
    context: str,
    actions: list[str],
    chosen: int | None = None,
    cost: float = 0.0,
    probability: float = 1.0,
) -> list[str]:
    """The multi-line example: ``context`` first, then the action lines; with ``chosen`` set,
    that action (0-based) carries the label ``label_prefix(cost, probability)``."""
    lines = [context, *actions]
    if chosen is not None:
        if not 0 <= chosen < len(actions):
            raise ValueError(f"chosen must be in [0, {len(actions)}), got {chosen}")
        lines[chosen + 1] = label_prefix(cost, probability) + lines[chosen + 1]
    return lines


_ACTION_LINES: dict[bytes, str] = {}
_ACTION_LINES_MAX = 50_000


def cached_action_line(features: list[Any], where: str = "actions[i].features") -> str:
    """`action_line` memoised on the features' canonical JSON: a retailer's offers and products
    repeat across requests, and a lookup costs a sixth of a conversion. Bounded; cleared when full.
    """
    key = orjson.dumps(features)
    line = _ACTION_LINES.get(key)
    if line is None:
        line = action_line(features, where)[0]
        if len(_ACTION_LINES) >= _ACTION_LINES_MAX:
            _ACTION_LINES.clear()
        _ACTION_LINES[key] = line
    return line
