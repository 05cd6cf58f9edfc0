"""A Vowpal Wabbit workspace behind a small interface: predict, learn, (de)serialise.

vowpalwabbit is imported here and only here, lazily, because it costs cold start. Examples go
straight to VW's own binding (pylibvw: parse the text in C++, predict, finish) instead of through
pyvw's per-line Python Example objects, which cost three quarters of a 25-action predict
(bench: 87 us against 323 us). Results are identical (tests/unit/test_vw_model.py).
"""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Any

# Personalizer enabled multi-slot by switching the policy to VW's conditional contextual bandit.
# Here every slot is one cb_explore_adf decision with the slot's features in its context (what
# VW's ccb reduction does inside), so one workspace serves single- and multi-slot rank, each slot
# is logged with the exact probability its action was drawn with, and the archive stays plain
# cb_adf DSJSON. A policy naming --ccb_explore_adf is therefore stored as given and run as
# --cb_explore_adf; multi-slot rank works under either.
MULTI_SLOT = "--ccb_explore_adf"


def vw_arguments(arguments: str) -> str:
    """The command line a workspace is built with (see MULTI_SLOT)."""
    return " ".join(
        "--cb_explore_adf" if token == MULTI_SLOT else token for token in arguments.split(" ")
    )


class VWModel:
    def __init__(self, workspace: Any, arguments: str) -> None:
        self._workspace = workspace
        self.arguments = arguments
        self._lock = threading.Lock()  # a workspace is not safe for concurrent calls

    @classmethod
    def fresh(cls, arguments: str) -> VWModel:
        import vowpalwabbit

        return cls(vowpalwabbit.Workspace(f"{vw_arguments(arguments)} --quiet"), arguments)

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
        """Probabilities of the actions, in the order of the action lines."""
        import pylibvw

        with self._lock:
            examples = pylibvw.vw._parse(self._workspace, "\n".join(lines))
            try:
                pylibvw.vw.predict_multi(self._workspace, examples)
                return list(examples[0].get_action_scores())
            finally:
                pylibvw.vw._finish_example_multi_ex(self._workspace, examples)

    def learn(self, lines: list[str]) -> None:
        import pylibvw

        with self._lock:
            examples = pylibvw.vw._parse(self._workspace, "\n".join(lines))
            try:
                pylibvw.vw.learn_multi(self._workspace, examples)
            finally:
                pylibvw.vw._finish_example_multi_ex(self._workspace, examples)

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
