"""A Vowpal Wabbit workspace behind a small interface: predict, learn, (de)serialise.

vowpalwabbit is imported here and only here, lazily, because it costs cold start.
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Any


class VWModel:
    def __init__(self, workspace: Any, arguments: str) -> None:
        self._workspace = workspace
        self.arguments = arguments
        self._lock = threading.Lock()  # a workspace is not safe for concurrent calls

    @classmethod
    def fresh(cls, arguments: str) -> VWModel:
        import vowpalwabbit

        return cls(vowpalwabbit.Workspace(f"{arguments} --quiet"), arguments)

    @classmethod
    def from_bytes(cls, data: bytes, arguments: str) -> VWModel:
        """Load a saved model; its own file carries the reductions and learning state."""
        import vowpalwabbit

        fd, path = tempfile.mkstemp(suffix=".vw")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            return cls(vowpalwabbit.Workspace(f"--quiet -i {path}"), arguments)
        finally:
            os.unlink(path)

    def predict(self, lines: list[str]) -> list[float]:
        with self._lock:
            return list(self._workspace.predict(lines))

    def learn(self, lines: list[str]) -> None:
        with self._lock:
            self._workspace.learn(lines)

    def to_bytes(self) -> bytes:
        fd, path = tempfile.mkstemp(suffix=".vw")
        os.close(fd)
        try:
            with self._lock:
                self._workspace.save(path)
            with open(path, "rb") as handle:
                return handle.read()
        finally:
            os.unlink(path)

    def close(self) -> None:
        with self._lock:
            self._workspace.finish()
