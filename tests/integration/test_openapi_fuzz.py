"""A schema-driven fuzz run: schemathesis generates valid and invalid requests for every operation
in /api/openapi.json and checks each answer against the document: no server error, a declared
status, the declared content type, body schema and headers, and 405 with a truthful `Allow` for
methods a path does not serve.

The host is a fresh one on its own resources (tests/integration/conftest.py `hosted`), so the
destructive operations (DELETE /model, PUT policy, DELETE /logs, ...) harm nobody; it serves the
demo catalog and runs open (no keys), as `make run` does. The run is deterministic (fixed seed,
derandomized) and bounded in examples, so a failure reproduces and the test stays within a few
minutes on two cores.

schemathesis' own pytest integration (`from_fixture`) sets `Node._nodeid`, which pytest 9.2 no
longer has, so the test drives schemathesis' engine (what its CLI runs) and reports its failures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import schemathesis
from schemathesis import engine
from schemathesis.engine import Status, StopReason, events

from tests.integration.conftest import LiveHost, hosted, load_demo_catalog

MAX_EXAMPLES = 50  # per operation and phase (examples, coverage, fuzzing): 45 operations
SEED = 20260101

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "request-timeout": 10,  # a route that needs longer is a finding (it found one: lift)
        # The document declares no links between operations: the stateful phase has nothing to
        # chain.
        "phases": {"stateful": {"enabled": False}},
        "checks": {
            "enabled": False,
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
            "unsupported_method": {"enabled": True},  # 405 with Allow
            "allow_header_conformance": {"enabled": True},  # Allow names the path's methods
        },
        "operations": [
            {
                # The reward's bounds are the schema's: any value the schema allows is taken, any
                # it forbids is refused. (Elsewhere rules the schema cannot say, e.g. no duplicate
                # action ids or a policy's argument syntax, rightly refuse schema-valid bodies.)
                "include-path-regex": r"/events/\{eventId\}/reward$",
                "checks": {
                    "positive_data_acceptance": {"enabled": True},
                    "negative_data_rejection": {"enabled": True},
                },
            },
            {
                # /api/catalog/products/import is matched by three templates ({collection}/import,
                # products/{itemId}, {collection}/{itemId}): its Allow names what that URL serves
                # (GET, POST, PUT, DELETE), the check compares with one template's methods.
                "include-path-regex": r"^/api/catalog/",
                "checks": {"allow_header_conformance": {"enabled": False}},
            },
        ],
    }
)


@pytest.fixture(scope="module")
def fuzz_host() -> Iterator[LiveHost]:
    with hosted(load_demo_catalog) as host:  # with products and offers, offers are ranked
        yield host


def run_fuzz(url: str) -> tuple[int, list[str], float]:
    """(operations tested, one line per distinct failure, seconds) of a run over `url`."""
    schema = schemathesis.openapi.from_url(url, config=CONFIG)
    failures: dict[tuple[str, str, str], str] = {}
    tested: set[str] = set()
    started = time.monotonic()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            tested.add(event.recorder.label)
            if event.status != Status.FAILURE:
                continue
            for nodes in event.recorder.checks.values():
                for node in nodes:
                    if node.failure_info is None:
                        continue
                    failure = node.failure_info.failure
                    key = (event.recorder.label, node.name, failure.title)
                    failures.setdefault(
                        key,
                        f"{' | '.join(key)}: {failure.message.splitlines()[0]}\n"
                        f"    {node.failure_info.code_sample[:500]}",
                    )
        elif isinstance(event, events.NonFatalError):
            failures.setdefault((event.label, "error", ""), f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            assert event.stop_reason == StopReason.COMPLETED, event.stop_reason
    return len(tested), sorted(failures.values()), time.monotonic() - started


def test_every_operation_answers_as_its_document_says(fuzz_host: LiveHost) -> None:
    operations, failures, seconds = run_fuzz(fuzz_host.url("/openapi.json"))
    print(f"fuzzed {operations} operations in {seconds:.0f} s")
    assert operations >= 40  # every documented operation ran (none was skipped or filtered)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
