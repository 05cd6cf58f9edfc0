"""devhost's reading of the app and its configuration: indexing, settings, host.json."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import azure.functions as func
import pytest

from devhost.app_index import index_app
from devhost.host_config import load_host_config, parse_timespan
from devhost.settings_loader import SettingMissing, load_local_settings, resolve
from tests.fixtures import devhost_app
from tests.fixtures.devhost_support import fixture_index

ROOT = Path(__file__).resolve().parents[2]


def test_indexer_finds_exactly_the_fixture_apps_functions() -> None:
    index = fixture_index()
    kinds = {f.name: f.trigger_type for f in index.functions}
    assert kinds == {
        "http_app_func": "httpTrigger",
        "plain_hello": "httpTrigger",
        "always_fails": "queueTrigger",
        "records_messages": "queueTrigger",
        "ticks": "timerTrigger",
        "hub_batches": "eventHubTrigger",
        "hub_single": "eventHubTrigger",
    }
    assert index.asgi_app is devhost_app.api
    assert index.asgi_function == "http_app_func"
    by_name = {f.name: f for f in index.functions}
    assert by_name["hub_batches"].trigger["cardinality"] == "many"
    assert by_name["hub_batches"].binding_name == "events"
    assert by_name["always_fails"].trigger["queueName"] == "%DEVHOST_TEST_FAIL_QUEUE%"


def test_unknown_trigger_types_are_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    app = func.FunctionApp()

    @app.blob_trigger(arg_name="blob", path="in/{name}", connection="AzureWebJobsStorage")
    def on_blob(blob: func.InputStream) -> None: ...

    @app.queue_trigger(arg_name="msg", queue_name="q", connection="AzureWebJobsStorage")
    def on_queue(msg: func.QueueMessage) -> None: ...

    with caplog.at_level(logging.WARNING):
        index = index_app(app)
    assert [f.name for f in index.functions] == ["on_queue"]
    assert index.skipped == ["on_blob"]
    assert "function 'on_blob': trigger type 'blobTrigger' is not run by devhost" in caplog.text
    assert index.asgi_app is None


def test_local_settings_do_not_override_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "local.settings.json"
    values = {"DH_TEST_A": "from-file", "DH_TEST_B": "from-file", "DH_TEST_C": True}
    settings.write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    monkeypatch.setenv("DH_TEST_A", "from-env")
    monkeypatch.delenv("DH_TEST_B", raising=False)
    monkeypatch.delenv("DH_TEST_C", raising=False)
    load_local_settings(settings)
    import os

    assert (os.environ["DH_TEST_A"], os.environ["DH_TEST_B"]) == ("from-env", "from-file")
    assert os.environ["DH_TEST_C"] == "true"
    monkeypatch.delenv("DH_TEST_B")
    monkeypatch.delenv("DH_TEST_C")


def test_setting_references_resolve_like_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DH_HUB", "activity")
    assert resolve("%DH_HUB%") == "activity"
    assert resolve("pre-%DH_HUB%-post") == "pre-activity-post"
    assert resolve("plain") == "plain"
    monkeypatch.delenv("DH_MISSING", raising=False)
    with pytest.raises(SettingMissing, match="DH_MISSING"):
        resolve("%DH_MISSING%")


def test_the_projects_host_json_is_read() -> None:
    config = load_host_config(ROOT / "host.json")
    raw = json.loads((ROOT / "host.json").read_text())["extensions"]
    assert config.queues.batch_size == raw["queues"]["batchSize"]
    assert config.queues.max_dequeue_count == raw["queues"]["maxDequeueCount"]
    assert config.queues.visibility_timeout == parse_timespan(raw["queues"]["visibilityTimeout"])
    assert config.queues.message_encoding == raw["queues"]["messageEncoding"]
    assert config.event_hubs.max_event_batch_size == raw["eventHubs"]["maxEventBatchSize"]
    assert config.route_prefix == raw["http"]["routePrefix"]
    assert parse_timespan("00:01:30.5") == 90.5
    assert parse_timespan("1.00:00:00") == 86400
