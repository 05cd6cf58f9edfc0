"""Wire format of the local Event Hubs stand-in: one Azurite queue per hub.

The publisher packs many events into one queue message (zlib + base64 text, under the 64 KiB
queue message limit) because Azurite manages a few hundred requests a second while rank emits
thousands of events. The local host (devhost) unpacks messages into Event Hub batches. Both sides
use this module.
"""

from __future__ import annotations

import base64
import zlib
from dataclasses import dataclass

import orjson

# Queue messages hold 64 KiB of text; stay well under it after base64 (4/3 growth).
MAX_MESSAGE_CHARS = 60_000
FORMAT_VERSION = 1
# Level 1: a third of level 6's CPU per event, and a message still holds hundreds of decisions.
COMPRESSION_LEVEL = 1


@dataclass(frozen=True)
class StandInEvent:
    body: bytes
    partition_key: str
    enqueued_time: float  # unix seconds, set by the publisher


def queue_name(prefix: str, hub: str) -> str:
    """Queue names are lowercase letters, digits and dashes, 3-63 characters."""
    name = f"{prefix}{hub}".lower().replace("_", "-")
    return name[:63]


def _pack(events: list[StandInEvent]) -> str:
    payload = orjson.dumps(
        {
            "v": FORMAT_VERSION,
            "e": [[e.partition_key, e.enqueued_time, e.body.decode()] for e in events],
        }
    )
    return base64.b64encode(zlib.compress(payload, COMPRESSION_LEVEL)).decode()


def encode(events: list[StandInEvent]) -> list[str]:
    """Pack events into as few queue messages as fit; order is kept."""
    if not events:
        return []
    text = _pack(events)
    if len(text) <= MAX_MESSAGE_CHARS:
        return [text]
    if len(events) == 1:
        raise ValueError(f"event too large for the queue stand-in ({len(text)} chars packed)")
    half = len(events) // 2
    return encode(events[:half]) + encode(events[half:])


def decode(text: str) -> list[StandInEvent]:
    payload = orjson.loads(zlib.decompress(base64.b64decode(text)))
    if payload.get("v") != FORMAT_VERSION:
        raise ValueError(f"unknown stand-in format {payload.get('v')!r}")
    return [
        StandInEvent(body=b.encode(), partition_key=k, enqueued_time=t) for k, t, b in payload["e"]
    ]
