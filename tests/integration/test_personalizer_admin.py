"""The rest of Personalizer's surface through a live host: rank without context, the full
service configuration, model export/import/reset and properties, logs, and 405 with Allow."""

from __future__ import annotations

import time

from tests.integration.conftest import LiveHost

V1 = "/personalizer/v1.0"
ACTIONS = [{"id": "a", "features": [{"k": "a"}]}, {"id": "b", "features": [{"k": "b"}]}]


def test_rank_without_context_features_is_valid(live_host: LiveHost) -> None:
    r = live_host.session.post(live_host.url(f"{V1}/rank"), json={"actions": ACTIONS})
    assert r.status_code == 201, r.text
    assert {a["id"] for a in r.json()["ranking"]} == {"a", "b"}


def test_the_whole_service_configuration_is_stored_and_returned(live_host: LiveHost) -> None:
    s, url = live_host.session, live_host.url(f"{V1}/configurations/service")
    config = s.get(url).json()
    config.update(
        rewardAggregation="average",
        modelRetrainDays=7,
        isAutoOptimizationEnabled=True,
        autoOptimizationFrequency="P7D",
        autoOptimizationStartDate="2026-12-01T00:00:00Z",
    )
    r = s.put(url, json=config)
    assert r.status_code == 200, r.text
    back = s.get(url).json()
    for key in ("rewardAggregation", "modelRetrainDays", "isAutoOptimizationEnabled",
                "autoOptimizationFrequency", "autoOptimizationStartDate"):  # fmt: skip
        assert back[key] == config[key], key
    assert back["lastConfigurationEditDate"]
    config["rewardAggregation"] = "earliest"
    assert s.put(url, json=config).status_code == 200


def test_model_export_import_reset_and_properties(live_host: LiveHost) -> None:
    s, url = live_host.session, live_host.url
    exported = s.get(url(f"{V1}/model"))
    assert exported.status_code == 200 and len(exported.content) > 100
    assert exported.headers["content-type"] == "application/octet-stream"
    corrupt = s.put(url(f"{V1}/model"), data=b"not a model",
                    headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert corrupt.status_code == 400 and corrupt.json()["error"]["code"] == "InvalidModel"
    imported = s.put(url(f"{V1}/model"), data=exported.content,
                     headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert imported.status_code == 204, imported.text
    props = s.get(url(f"{V1}/model/properties")).json()
    assert props["creationTime"] and props["lastModifiedTime"]
    assert s.delete(url(f"{V1}/model")).status_code == 204
    time.sleep(0.1)
    again = s.get(url(f"{V1}/model"))
    assert again.status_code == 200 and again.content  # a fresh model of the current policy
    rank = s.post(url(f"{V1}/rank"), json={"contextFeatures": [{"u": 1}], "actions": ACTIONS})
    assert rank.status_code == 201


def test_logs_properties_and_delete(live_host: LiveHost) -> None:
    s, url = live_host.session, live_host.url
    props = s.get(url(f"{V1}/logs/properties"))
    assert props.status_code == 200 and "dateRange" in props.json()
    assert s.delete(url(f"{V1}/logs")).status_code == 204
    assert s.get(url(f"{V1}/logs/properties")).json()["dateRange"] == {"from": None, "to": None}


def test_a_wrong_method_is_405_with_allow(live_host: LiveHost) -> None:
    r = live_host.session.delete(live_host.url(f"{V1}/rank"))
    assert r.status_code == 405 and r.json()["error"]["code"] == "MethodNotAllowed"
    assert "POST" in r.headers["Allow"]
    # every method of the path, not only the first route's (GET, PUT and DELETE are three routes)
    r = live_host.session.post(live_host.url(f"{V1}/configurations/policy"), json={})
    assert r.status_code == 405 and r.headers["Allow"] == "GET, PUT, DELETE"
