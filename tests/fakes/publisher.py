"""An EventPublisher that keeps events in memory, by hub: tests drive delivery themselves."""

from __future__ import annotations


class MemoryPublisher:
    """Keeps events in memory, by hub (tests drive delivery themselves; benchmarks with
    `keep=False` measure rank without any sending)."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self.events: dict[str, list[bytes]] = {}
        self._count = 0

    def publish(self, hub: str, body: bytes, partition_key: str) -> None:
        self._count += 1
        if self.keep:
            self.events.setdefault(hub, []).append(body)

    def flush(self, timeout: float = 30.0) -> bool:
        return True

    def close(self) -> None:
        pass

    def stats(self) -> dict[str, int]:
        return {"sent": self._count, "pending": 0, "dropped": 0, "sendFailures": 0}
