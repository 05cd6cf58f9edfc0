"""Static checks of the Bicep in infra/bicep (no Azure, no bicep CLI: parsed with pycep).

The app-settings contract below is what shared/settings.py and shared/connections.py read in Azure.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from shared.cosmos_store import CONTAINERS

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
BICEP_DIR = INFRA / "bicep"
MAIN = BICEP_DIR / "main.bicep"
MODULES = BICEP_DIR / "modules"
BICEP_FILES = sorted(BICEP_DIR.rglob("*.bicep"))

# The contract: exactly these app settings on the function app, no more, no fewer.
EXPECTED_APP_SETTINGS = [
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__clientId",
    "EVENT_TRANSPORT",
    "EventHubConnection__fullyQualifiedNamespace",
    "EventHubConnection__credential",
    "EventHubConnection__clientId",
    "COSMOS_CONNECTION__accountEndpoint",
    "COSMOS_CONNECTION__credential",
    "COSMOS_CONNECTION__clientId",
    "AZURE_CLIENT_ID",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "COSMOS_DATABASE",
    "ACTIVITY_HUB",
    "DECISIONS_HUB",
    "REWARDS_HUB",
    "MODELS_CONTAINER",
    "ARCHIVE_CONTAINER",
    "EVENTS_CONTAINER",
    "LEARN_WINDOW_SECONDS",
    "LEARN_GRACE_SECONDS",
    "MODEL_POLL_SECONDS",
    "CONFIG_CACHE_SECONDS",
    "LEARN_SCHEDULE",
    "AUTO_OPTIMIZE_SCHEDULE",
    "MAX_REQUEST_BYTES",
    "PERSONALIZER_REWARD_WAIT_TIME",
    "PERSONALIZER_MODEL_EXPORT_FREQUENCY",
    "PERSONALIZER_DEFAULT_REWARD",
    "PERSONALIZER_REWARD_AGGREGATION",
    "PERSONALIZER_EXPLORATION_PERCENTAGE",
    "PERSONALIZER_LOG_RETENTION_DAYS",
    "PERSONALIZER_LEARNING_MODE",
    "PERSONALIZER_API_KEY",
    "API_CLIENT_KEYS",
    "API_ADMIN_KEYS",
    "SIMULATOR_QUEUE",
    "EVALUATIONS_QUEUE",
    "SIMULATIONS_CONTAINER",
    "SIMULATOR_BASE_URL",
    "SIMULATOR_API_KEY",
    "CATALOG_CACHE_SECONDS",
    "OFFERS_CONTROL_PERCENT",
    "OFFERS_DISMISS_DAYS",
    "PROFILE_TIMEOUT_MS",
    "PROFILE_CACHE_SECONDS",
    "ACTIVITY_REWARDS",
    "SIGNALS_CACHE_SECONDS",
]

# Literal values the settings must carry (the rest are expressions over deployed resources).
EXPECTED_LITERAL_VALUES = {
    "AzureWebJobsStorage__credential": "managedidentity",
    "EventHubConnection__credential": "managedidentity",
    "EVENT_TRANSPORT": "eventhubs",
    "COSMOS_CONNECTION__credential": "managedidentity",
    "COSMOS_DATABASE": "offers",
    "ACTIVITY_HUB": "activity",
    "DECISIONS_HUB": "decisions",
    "REWARDS_HUB": "rewards",
    "MODELS_CONTAINER": "models",
    "ARCHIVE_CONTAINER": "archive",
    "EVENTS_CONTAINER": "events",
    "LEARN_WINDOW_SECONDS": "10",
    "LEARN_GRACE_SECONDS": "30",
    "MODEL_POLL_SECONDS": "60",
    "CONFIG_CACHE_SECONDS": "30",
    "LEARN_SCHEDULE": "0 * * * * *",
    "AUTO_OPTIMIZE_SCHEDULE": "0 0 * * * *",
    "MAX_REQUEST_BYTES": "1048576",
    "CATALOG_CACHE_SECONDS": "30",
    "OFFERS_CONTROL_PERCENT": "10",
    "OFFERS_DISMISS_DAYS": "7",
    "PROFILE_TIMEOUT_MS": "50",
    "PROFILE_CACHE_SECONDS": "5",
    "ACTIVITY_REWARDS": "offer_click=0.2,add_to_cart=0.5,purchase=1.0",
    "SIGNALS_CACHE_SECONDS": "30",
    "PERSONALIZER_REWARD_WAIT_TIME": "PT10M",
    "PERSONALIZER_MODEL_EXPORT_FREQUENCY": "PT5M",
    "PERSONALIZER_DEFAULT_REWARD": "0",
    "PERSONALIZER_REWARD_AGGREGATION": "earliest",
    "PERSONALIZER_EXPLORATION_PERCENTAGE": "0.2",
    "PERSONALIZER_LOG_RETENTION_DAYS": "90",
    "PERSONALIZER_LEARNING_MODE": "Online",
    "SIMULATOR_QUEUE": "simulate",
    "EVALUATIONS_QUEUE": "evaluate",
    "SIMULATIONS_CONTAINER": "simulations",
    "SIMULATOR_BASE_URL": "",
    "SIMULATOR_API_KEY": "",
}

FORBIDDEN_FLEX_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
}

ROLE_IDS = {
    "Storage Blob Data Owner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
    "Storage Queue Data Contributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
    "Storage Table Data Contributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
    "Azure Event Hubs Data Sender": "2b629674-e913-4c01-ae53-ef4638d8f975",
    "Azure Event Hubs Data Receiver": "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
    "Monitoring Metrics Publisher": "3913510d-42f4-4e42-8a64-420c390055eb",
}
COSMOS_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"


# ---------------------------------------------------------------------------------------------
# helpers over pycep's JSON tree


@cache
def parse(path: Path) -> dict[str, Any]:
    return BicepParser().parse(file_path=path)  # type: ignore[return-value]


def body(node: dict[str, Any]) -> dict[str, Any]:
    """The object body of a resource/module, unwrapping `[for ...]` and `if (...)` forms."""
    cfg = node["config"]
    if "config" in cfg and ("loop_type" in cfg or "condition" in cfg):
        return cfg["config"]  # type: ignore[no-any-return]
    return cfg  # type: ignore[no-any-return]


def resolve(tree: dict[str, Any], value: Any) -> Any:
    """An identifier that names a parameter (its default) or a variable (its value)."""
    if isinstance(value, str):
        if value in tree.get("parameters", {}):
            return tree["parameters"][value]["default"]
        if value in tree.get("variables", {}):
            return tree["variables"][value]["value"]
    return value


def resources_of_type(tree: dict[str, Any], rtype: str, *, existing: bool = False):
    return [
        (name, res)
        for name, res in tree.get("resources", {}).items()
        if res["type"].lower() == rtype.lower() and bool(res.get("existing")) == existing
    ]


def single(tree: dict[str, Any], rtype: str) -> dict[str, Any]:
    found = resources_of_type(tree, rtype)
    assert len(found) == 1, f"expected one {rtype}, found {[n for n, _ in found]}"
    return found[0][1]


def loop_items(tree: dict[str, Any], res: dict[str, Any]) -> list[Any]:
    """The names a `[for x in arr: {...}]` resource creates (arr resolved to its default)."""
    cfg = res["config"]
    if "loop_type" not in cfg:
        return [body(res)["name"]]
    items = resolve(tree, cfg["loop_type"]["detail"]["array_name"])
    assert isinstance(items, list), f"cannot resolve loop array {cfg['loop_type']}"
    return items


def module_file(tree: dict[str, Any], symbol: str) -> Path:
    return (BICEP_DIR / tree["modules"][symbol]["detail"]["path"]).resolve()


def find_module_file(name: str) -> Path:
    path = MODULES / name
    assert path.exists(), f"missing module {path}"
    return path


def app_settings(site_body: dict[str, Any]) -> list[dict[str, Any]]:
    settings = site_body["properties"]["siteConfig"]["appSettings"]
    assert isinstance(settings, list)
    return settings


FUNCTION_APP_FILE = MODULES / "functionapp.bicep"


def function_app_site() -> tuple[dict[str, Any], dict[str, Any]]:
    tree = parse(FUNCTION_APP_FILE)
    return tree, body(single(tree, "Microsoft.Web/sites"))


# ---------------------------------------------------------------------------------------------
# structure


def test_bicep_files_exist() -> None:
    assert MAIN in BICEP_FILES
    assert len(BICEP_FILES) >= 2


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(BICEP_DIR)))
def test_every_bicep_file_parses(path: Path) -> None:
    tree = parse(path)
    assert tree.get("resources") or tree.get("modules"), f"{path} declares nothing"


def test_main_references_every_module_and_only_existing_ones() -> None:
    tree = parse(MAIN)
    referenced = {module_file(tree, sym) for sym in tree.get("modules", {})}
    assert referenced, "main.bicep references no modules"
    for sym, mod in tree["modules"].items():
        assert mod["type"] == "local", f"module {sym} is not a local module (no registry modules)"
    missing = sorted(str(p) for p in referenced if not p.exists())
    assert not missing, f"main.bicep references missing module files: {missing}"
    on_disk = {p.resolve() for p in MODULES.glob("*.bicep")}
    unused = sorted(str(p) for p in on_disk - referenced)
    assert not unused, f"module files not referenced by main.bicep: {unused}"


def test_no_registry_modules_anywhere() -> None:
    for path in BICEP_FILES:
        assert "br/public:" not in path.read_text(), path
        assert "br:" not in path.read_text(), path


def test_main_parameters() -> None:
    params = parse(MAIN)["parameters"]
    assert params["environmentName"]["default"] is None  # required
    assert params["principalId"]["default"] == ""
    key = params["personalizerApiKey"]
    assert key["default"] == ""
    assert {"type": "secure"} in key["decorators"], "personalizerApiKey must be @secure()"
    assert "location" in params


def test_main_outputs() -> None:
    outputs = parse(MAIN)["outputs"]
    for name in (
        "AZURE_FUNCTION_APP_NAME",
        "FUNCTION_APP_HOSTNAME",
        "FUNCTION_APP_URL",
        "AZURE_STORAGE_ACCOUNT_NAME",
        "EVENTHUBS_NAMESPACE",
        "COSMOS_ENDPOINT",
        "AZURE_CLIENT_ID",
    ):
        assert name in outputs, f"missing output {name}"
    url = outputs["FUNCTION_APP_URL"]["value"]
    assert isinstance(url, str) and url.startswith("https://") and url.endswith("/api")


def test_parameters_file_is_azd_style() -> None:
    doc = json.loads((BICEP_DIR / "main.parameters.json").read_text())
    values = {k: v["value"] for k, v in doc["parameters"].items()}
    assert values["environmentName"] == "${AZURE_ENV_NAME}"
    assert values["location"] == "${AZURE_LOCATION}"
    assert values["principalId"] == "${AZURE_PRINCIPAL_ID}"
    declared = set(parse(MAIN)["parameters"])
    assert set(values) <= declared, (
        f"parameters not declared in main.bicep: {set(values) - declared}"
    )


def test_azure_yaml() -> None:
    import yaml

    doc = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert doc["name"] == "personalized-offers"
    assert doc["infra"]["path"] == "infra/bicep"
    api = doc["services"]["api"]
    assert (api["project"], api["host"], api["language"]) == (".", "function", "python")


# ---------------------------------------------------------------------------------------------
# the function app and its settings contract


def test_app_settings_match_contract() -> None:
    _, site = function_app_site()
    names = [s["name"] for s in app_settings(site)]
    duplicates = sorted(n for n, c in Counter(names).items() if c > 1)
    assert not duplicates, f"duplicate app settings: {duplicates}"
    assert sorted(names) == sorted(EXPECTED_APP_SETTINGS), (
        f"missing: {sorted(set(EXPECTED_APP_SETTINGS) - set(names))}, "
        f"unexpected: {sorted(set(names) - set(EXPECTED_APP_SETTINGS))}"
    )


def test_app_settings_text_agrees_with_parse() -> None:
    """Guard against the parser silently dropping entries: a regex over the text sees the same."""
    text = FUNCTION_APP_FILE.read_text()
    block = re.search(r"^(\s*)appSettings:\s*\[\n(.*?)^\1\]", text, flags=re.MULTILINE | re.DOTALL)
    assert block, "no appSettings array in functionapp.bicep"
    names = re.findall(r"^\s*name:\s*'([^']+)'", block.group(2), flags=re.MULTILINE)
    assert sorted(names) == sorted(EXPECTED_APP_SETTINGS)


def test_no_flex_forbidden_settings() -> None:
    _, site = function_app_site()
    names = {s["name"] for s in app_settings(site)}
    assert not names & FORBIDDEN_FLEX_SETTINGS
    for path in BICEP_FILES:
        # comments may say why they are absent; code (a config/appsettings resource) may not
        code = re.sub(r"//.*", "", path.read_text())
        for forbidden in FORBIDDEN_FLEX_SETTINGS:
            assert forbidden not in code, f"{forbidden} appears in {path}"


def test_app_setting_literal_values() -> None:
    tree, site = function_app_site()
    values = {s["name"]: s["value"] for s in app_settings(site)}
    for name, expected in EXPECTED_LITERAL_VALUES.items():
        assert values[name] == expected, f"{name}={values[name]!r}, expected {expected!r}"
    # The API keys come from @secure() parameters, never literals.
    for name in ("PERSONALIZER_API_KEY", "API_CLIENT_KEYS", "API_ADMIN_KEYS"):
        key_param = values[name]
        assert key_param in tree["parameters"], f"{name} must come from a parameter"
        assert {"type": "secure"} in tree["parameters"][key_param]["decorators"], name
    auth = values["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]
    assert re.fullmatch(r"ClientId=\$\{[^}]+\};Authorization=AAD", auth), auth
    assert values["EventHubConnection__fullyQualifiedNamespace"] in tree["parameters"]


def test_main_passes_eventhubs_fqdn_and_secure_key() -> None:
    tree = parse(MAIN)
    fn = [s for s in tree["modules"] if module_file(tree, s) == FUNCTION_APP_FILE.resolve()]
    assert len(fn) == 1
    params = body(tree["modules"][fn[0]])["params"]
    assert params["personalizerApiKey"] == "personalizerApiKey"
    assert params["apiClientKeys"] == "apiClientKeys" and params["apiAdminKeys"] == "apiAdminKeys"
    assert params["deploymentContainerName"] == "deployment"
    eh_text = find_module_file("eventhubs.bicep").read_text()
    assert "'${namespace.name}.servicebus.windows.net'" in eh_text


def test_flex_consumption_plan_and_site() -> None:
    tree, site = function_app_site()
    plan = body(single(tree, "Microsoft.Web/serverfarms"))
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan["properties"]["reserved"] is True

    assert site["kind"] == "functionapp,linux"
    tags = site["tags"]
    if "function" in tags:  # union(tags, {...})
        tags = tags["function"]["parameters"]["arg_2"]
    assert {k.strip("'"): v for k, v in tags.items()}.get("azd-service-name") == "api"
    assert site["identity"]["type"] == "UserAssigned"

    cfg = site["properties"]["functionAppConfig"]
    storage = cfg["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"]["type"] == "UserAssignedIdentity"
    assert "userAssignedIdentityResourceId" in storage["authentication"]
    assert resolve(tree, cfg["runtime"]["name"]) == "python"
    assert resolve(tree, cfg["runtime"]["version"]) == "3.11"
    scale = cfg["scaleAndConcurrency"]
    assert resolve(tree, scale["maximumInstanceCount"]) == 40
    assert resolve(tree, scale["instanceMemoryMB"]) == 2048


# ---------------------------------------------------------------------------------------------
# data services: identity-only


def test_storage_account_keys_off_and_containers() -> None:
    tree = parse(find_module_file("storage.bicep"))
    props = body(single(tree, "Microsoft.Storage/storageAccounts"))["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props.get("allowBlobPublicAccess") is False
    ((_, containers),) = resources_of_type(
        tree, "Microsoft.Storage/storageAccounts/blobServices/containers"
    )
    assert set(loop_items(tree, containers)) == {
        "models",
        "archive",
        "events",
        "simulations",
        "deployment",
    }
    ((_, queues),) = resources_of_type(
        tree, "Microsoft.Storage/storageAccounts/queueServices/queues"
    )
    assert loop_items(tree, queues) == [
        "simulate",
        "simulate-poison",
        "evaluate",
        "evaluate-poison",
    ]


def test_event_hubs_local_auth_off_and_hubs() -> None:
    tree = parse(find_module_file("eventhubs.bicep"))
    ns = body(single(tree, "Microsoft.EventHub/namespaces"))
    assert ns["sku"]["name"] == "Standard"
    assert ns["properties"]["disableLocalAuth"] is True
    ((_, hubs),) = resources_of_type(tree, "Microsoft.EventHub/namespaces/eventhubs")
    assert sorted(loop_items(tree, hubs)) == ["activity", "decisions", "rewards"]
    hub_props = body(hubs)["properties"]
    assert resolve(tree, hub_props["partitionCount"]) == 4
    assert resolve(tree, hub_props["messageRetentionInDays"]) == 1


def test_cosmos_serverless_local_auth_off_and_containers() -> None:
    tree = parse(find_module_file("cosmos.bicep"))
    props = body(single(tree, "Microsoft.DocumentDB/databaseAccounts"))["properties"]
    assert props["disableLocalAuth"] is True
    assert {"name": "EnableServerless"} in props["capabilities"]
    db = body(single(tree, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases"))
    assert resolve(tree, db["name"]) == "offers"
    ((_, containers),) = resources_of_type(
        tree, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers"
    )
    assert cosmos_containers(find_module_file("cosmos.bicep")) == CONTAINERS
    (path,) = body(containers)["properties"]["resource"]["partitionKey"]["paths"]
    assert path["operator"]["operands"] == {"operand_1": "container", "operand_2": "partitionKey"}


def cosmos_containers(path: Path) -> dict[str, str]:
    """name -> partition key of the containers a cosmos.bicep creates (its default list)."""
    tree = parse(path)
    ((_, containers),) = resources_of_type(
        tree, "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers"
    )
    return {str(c["name"]): str(c["partitionKey"]) for c in loop_items(tree, containers)}


def test_cosmos_container_check_bites_on_a_changed_partition_key(tmp_path: Path) -> None:
    text = find_module_file("cosmos.bicep").read_text()
    copy = tmp_path / "cosmos.bicep"
    copy.write_text(text.replace("partitionKey: '/kind'", "partitionKey: '/id'"))
    assert cosmos_containers(copy) != CONTAINERS


def test_app_insights_local_auth_off() -> None:
    tree = parse(find_module_file("monitoring.bicep"))
    props = body(single(tree, "Microsoft.Insights/components"))["properties"]
    assert props["DisableLocalAuth"] is True


def test_no_keys_anywhere_under_infra() -> None:
    for path in sorted(p for p in INFRA.rglob("*") if p.is_file()):
        text = path.read_text(errors="replace")
        for needle in (
            "AccountKey=",
            "SharedAccessKey=",
            "listKeys(",
            "listConnectionStrings(",
        ):
            assert needle not in text, f"{needle} in {path}"


# ---------------------------------------------------------------------------------------------
# role assignments


def test_role_assignments() -> None:
    tree = parse(find_module_file("rbac.bicep"))
    assigned: set[str] = set()
    for name, res in resources_of_type(tree, "Microsoft.Authorization/roleAssignments"):
        b = body(res)
        # name: guid(<scope>.id, principalId, roleId)
        fn = b["name"]["function"]
        assert fn["type"] == "guid", name
        args = fn["parameters"]
        scope_ref = args["base_string"]["operator"]["operands"]
        assert scope_ref["operand_2"] == "id" and scope_ref["operand_1"] == b["scope"], name
        assert args["extra_string_1"] == "principalId", name
        role_arg = args["extra_string_2"]
        assert b["properties"]["principalId"] == "principalId", name
        assert b["properties"]["principalType"] == "principalType", name
        role_def = b["properties"]["roleDefinitionId"]["function"]
        assert role_def["type"] == "subscription_resource_id", name
        loop = res["config"].get("loop_type")
        if loop and role_arg == loop["detail"]["item_name"]:  # a loop over role ids
            roles = [resolve(tree, r) for r in loop_items(tree, res)]
        else:
            roles = [resolve(tree, role_arg)]
        assigned.update(roles)
    assert assigned == set(ROLE_IDS.values()), {k for k, v in ROLE_IDS.items() if v not in assigned}

    ((_, cosmos_role),) = resources_of_type(
        tree, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"
    )
    props = body(cosmos_role)["properties"]
    role_path = props["roleDefinitionId"]
    assert role_path.endswith("/sqlRoleDefinitions/${cosmosBuiltInDataContributor}")
    assert resolve(tree, "cosmosBuiltInDataContributor") == COSMOS_DATA_CONTRIBUTOR
    assert props["principalId"] == "principalId"
    assert cosmos_role_scope(find_module_file("rbac.bicep")).endswith("/dbs/${cosmosDatabaseName}")


def cosmos_role_scope(path: Path) -> str:
    tree = parse(path)
    ((_, role),) = resources_of_type(
        tree, "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"
    )
    return str(body(role)["properties"]["scope"])


def test_cosmos_role_scope_check_bites_on_an_account_wide_copy(tmp_path: Path) -> None:
    text = find_module_file("rbac.bicep").read_text()
    widened = text.replace("'${cosmos.id}/dbs/${cosmosDatabaseName}'", "cosmos.id")
    assert widened != text
    copy = tmp_path / "rbac.bicep"
    copy.write_text(widened)
    assert not cosmos_role_scope(copy).endswith("/dbs/${cosmosDatabaseName}")


def test_main_scopes_both_rbac_modules_to_the_cosmos_database() -> None:
    text = (BICEP_DIR / "main.bicep").read_text()
    assert text.count("cosmosDatabaseName: cosmos.outputs.databaseName") == 2


def test_event_hubs_roles_are_send_and_receive_on_each_hub_only() -> None:
    """Least privilege: Data Sender and Data Receiver scoped to each hub the app uses, nothing on
    the namespace, and never Data Owner (manage rights)."""
    from shared.settings import Settings

    path = find_module_file("rbac.bicep")
    tree = parse(path)
    assert "f526a384-b230-433a-b45c-95f59c4a2dec" not in path.read_text()  # Data Owner
    hub_roles = {
        resolve(
            tree,
            body(res)["properties"]["roleDefinitionId"]["function"]["parameters"][
                "resource_name_1"
            ],
        )
        for _, res in resources_of_type(tree, "Microsoft.Authorization/roleAssignments")
        if body(res)["scope"] != "storage" and "appInsights" not in str(body(res)["scope"])
    }
    assert hub_roles == {
        ROLE_IDS["Azure Event Hubs Data Sender"],
        ROLE_IDS["Azure Event Hubs Data Receiver"],
    }
    for _, res in resources_of_type(tree, "Microsoft.Authorization/roleAssignments"):
        scope = body(res)["scope"]
        assert scope != "eventHubsNamespace", "no role on the whole namespace"
        if isinstance(scope, dict):  # hubs[i]
            assert scope["operator"]["operands"]["operand_1"] == "hubs"
    hubs = tree["parameters"]["eventHubNames"]["default"]
    assert sorted(hubs) == sorted(Settings().hub_names().values())


def test_main_grants_roles_to_identity_and_optional_user() -> None:
    tree = parse(MAIN)
    rbac = [s for s in tree["modules"] if module_file(tree, s).name == "rbac.bicep"]
    assert len(rbac) == 2, rbac
    types = {}
    for sym in rbac:
        mod = tree["modules"][sym]
        params = body(mod)["params"]
        types[sym] = (params["principalType"], mod["config"].get("condition"))
    sp = [s for s, (t, _) in types.items() if t == "ServicePrincipal"]
    user = [s for s, (t, _) in types.items() if t != "ServicePrincipal"]
    assert len(sp) == 1 and types[sp[0]][1] is None
    assert len(user) == 1 and types[user[0]][1] is not None, "user roles must be conditional"
    assert resolve(tree, types[user[0]][0]) == "User"


def test_storage_lifecycle_expires_events_and_joined_archive() -> None:
    tree = parse(find_module_file("storage.bicep"))
    (policy,) = [
        node
        for _, node in resources_of_type(
            tree, "Microsoft.Storage/storageAccounts/managementPolicies"
        )
    ]
    rule, raw = body(policy)["properties"]["policy"]["rules"]
    assert raw["definition"]["filters"]["prefixMatch"] == ["archive/activity/"]
    assert raw["definition"]["actions"]["baseBlob"]["delete"] == {
        "daysAfterModificationGreaterThan": "activityRetentionDays"
    }
    assert rule["enabled"] is True and rule["type"] == "Lifecycle"
    assert sorted(rule["definition"]["filters"]["prefixMatch"]) == [
        "archive/joined/",
        "events/",
        "models/state/",
    ]
    delete = rule["definition"]["actions"]["baseBlob"]["delete"]
    assert delete["daysAfterModificationGreaterThan"] == "retentionDays"
    assert resolve(tree, "retentionDays") == 90  # Personalizer's default logRetentionDays


def test_outputs_and_cors_parameter() -> None:
    tree = parse(MAIN)
    outputs = set(tree["outputs"])
    assert {"AZURE_FUNCTION_APP_NAME", "FUNCTION_APP_URL", "PERSONALIZER_ENDPOINT"} <= outputs
    assert "corsAllowedOrigins" in tree["parameters"]
    app = parse(FUNCTION_APP_FILE)
    assert "corsAllowedOrigins" in app["parameters"]
    assert "allowedOrigins: corsAllowedOrigins" in FUNCTION_APP_FILE.read_text()


# Settings the code reads that Bicep deliberately does not set (the code's default is right in
# Azure, or the platform sets them).
NOT_DEPLOYED = {
    "HUB_STANDIN_QUEUE_PREFIX": "local stand-in queues only (EVENT_TRANSPORT=storage-queues)",
    "PUBLISH_BUFFER_SIZE": "the default buffer fits; a tuning knob",
    "PERSONALIZER_POLICY_ARGUMENTS": "empty = the measured default policy (shared/policy.py)",
    "WEBSITE_HOSTNAME": "set by the Functions platform",
}
_READS = re.compile(
    r"(?:_str|_float|_int|_bool|getenv|environ\.get)\(\s*\"([A-Z][A-Z0-9_]+)\""
    r"|environ\[\"([A-Z][A-Z0-9_]+)\"\]"
    r"|\"%([A-Z][A-Z0-9_]+)%\""
)


def settings_read(texts: list[str]) -> set[str]:
    return {next(g for g in m.groups() if g) for t in texts for m in _READS.finditer(t)}


def code_texts() -> list[str]:
    dirs = ("shared", "functions", "simulator")
    files = [p for d in dirs for p in (ROOT / d).rglob("*.py")] + [ROOT / "function_app.py"]
    return [p.read_text() for p in files]


def unprovisioned(texts: list[str]) -> set[str]:
    return settings_read(texts) - set(EXPECTED_APP_SETTINGS) - set(NOT_DEPLOYED)


def test_every_setting_the_code_reads_is_provisioned_or_said_not_to_be() -> None:
    read = settings_read(code_texts())
    assert {"COSMOS_DATABASE", "LEARN_SCHEDULE", "PERSONALIZER_MODEL_EXPORT_FREQUENCY"} <= read
    assert unprovisioned(code_texts()) == set()
    assert set(NOT_DEPLOYED) <= read, "NOT_DEPLOYED names a setting nothing reads"


def test_the_provisioning_check_bites_on_a_new_setting() -> None:
    planted = 'x = _float(\n    "NEW_TUNING_KNOB", 1.0)\n@bp.queue_trigger(name="%NEW_QUEUE%")'
    assert unprovisioned([*code_texts(), planted]) == {"NEW_TUNING_KNOB", "NEW_QUEUE"}
