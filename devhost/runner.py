"""What every trigger runner shares: a thread of its own and a stop signal."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class Runner:
    """Subclasses implement `run()`, which returns soon after `self.stopping` is set."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        raise NotImplementedError

    def _main(self) -> None:
        try:
            self.run()
        except Exception:
            log.exception("%s stopped by an unexpected error", self.name)

    def start(self) -> None:
        # Daemon: a function stuck past shutdown must not keep the process alive.
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def join(self, timeout: float | None = None) -> bool:
        """True when the runner has finished."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()
