"""Wire format of the local Event Hubs stand-in: one Azurite queue per hub.

The publisher packs many events into one queue message (deflate + base64 text, under the 64 KiB
queue message limit) because Azurite manages a few hundred requests a second while rank emits
thousands of events. The local host (devhost) unpacks messages into Event Hub batches. Both sides
use this module.

Format 2 (written): a JSON header line `{"v":2,"k":[partition keys],"t":[enqueued times]}`, then
each body on its own line, as is (event bodies are single-line JSON), compressed with ISA-L's
zlib-compatible deflate (several times faster than zlib at level 1). Format 1 (still read; written
for a batch whose bodies contain a newline): `{"v":1,"e":[[key, time, body text], ...]}`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson
from isal import isal_zlib

# Queue messages hold 64 KiB of text; stay well under it after base64 (4/3 growth).
MAX_MESSAGE_CHARS = 60_000
FORMAT_VERSION = 2
# ISA-L level 1: a message still holds hundreds of decisions.
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
    bodies = [e.body for e in events]
    if any(b"\n" in body for body in bodies):
        payload = orjson.dumps(
            {"v": 1, "e": [[e.partition_key, e.enqueued_time, e.body.decode()] for e in events]}
        )
    else:
        head = orjson.dumps(
            {"v": 2, "k": [e.partition_key for e in events], "t": [e.enqueued_time for e in events]}
        )
        payload = b"\n".join([head, *bodies])
    return base64.b64encode(isal_zlib.compress(payload, COMPRESSION_LEVEL)).decode()


def encode(events: list[StandInEvent]) -> list[str]:
    """Pack events into as few queue messages as fit; order is kept."""
    if not events:
        return []
    text = _pack(events)
    if len(text) <= MAX_MESSAGE_CHARS:
        return [text]
    if len(events) == 1:
        raise ValueError(f"event too large for the queue stand-in ({len(text)} chars packed)")
    # split into as many parts as the size says (plus one), not halves: fewer wasted packs
    parts = min(len(events), len(text) // MAX_MESSAGE_CHARS + 2)
    size = -(-len(events) // parts)
    return [text for i in range(0, len(events), size) for text in encode(events[i : i + size])]


def decode(text: str) -> list[StandInEvent]:
    data = isal_zlib.decompress(base64.b64decode(text))
    head, _, rest = data.partition(b"\n")
    payload = orjson.loads(head)
    version = payload.get("v")
    if version == 2:
        bodies = rest.split(b"\n") if payload["k"] else []
        if len(bodies) != len(payload["k"]) or len(bodies) != len(payload["t"]):
            raise ValueError("stand-in message: keys, times and bodies differ in number")
        return [
            StandInEvent(body=b, partition_key=k, enqueued_time=t)
            for k, t, b in zip(payload["k"], payload["t"], bodies, strict=True)
        ]
    if version != 1:
        raise ValueError(f"unknown stand-in format {version!r}")
    return [
        StandInEvent(body=b.encode(), partition_key=k, enqueued_time=t) for k, t, b in payload["e"]
    ]
