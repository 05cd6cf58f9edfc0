"""devhost only hosts; devstack is the local stack. Nothing here talks to the emulators."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from devhost import storage
from devstack import __main__ as cli
from devstack import bootstrap, demo, learning_line, services
from shared.connections import ConnectionMissing
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> set[str]:
    """Every module a package's files import, lazily imported ones included."""
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return found


def test_devhost_never_imports_devstack() -> None:
    assert not {m for m in imported_modules("devhost") if m.split(".")[0] == "devstack"}


def test_only_shared_connections_builds_storage_clients_for_devhost_and_devstack() -> None:
    for package in ("devhost", "devstack"):
        modules = imported_modules(package)
        assert "shared.clients" not in modules, package
        assert "azure.identity" not in modules, package


@pytest.fixture
def no_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AzureWebJobsStorage", "AzureWebJobsStorage__accountName", "AZURE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(storage, "_services", {})


@pytest.mark.usefixtures("no_storage")
def test_devhost_queue_clients_come_from_shared_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConnectionMissing, match="AzureWebJobsStorage"):
        storage.queue_service()
    monkeypatch.setenv("Jobs__queueServiceUri", "https://acct.queue.core.windows.net")
    monkeypatch.setenv("Jobs__credential", "managedidentity")
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000002")
    service = storage.queue_service("Jobs")
    assert service.url.startswith("https://acct.queue.core.windows.net")
    assert type(service.credential).__name__ == "ManagedIdentityCredential"
    assert storage.queue_service("Jobs") is service  # one client per connection


def test_bootstrap_queue_names_follow_the_settings() -> None:
    settings = Settings(
        hub_standin_queue_prefix="t1-",
        decisions_hub="Decisions",
        simulator_queue="t1-sim",
        evaluations_queue="t1-eval",
    )
    assert bootstrap.queue_names(settings) == [
        "t1-activity",
        "t1-decisions",
        "t1-rewards",
        "t1-sim",
        "t1-eval",
        "t1-sim-poison",
        "t1-eval-poison",
    ]
    assert bootstrap.queue_names(Settings())[-4:] == [
        "simulate",
        "evaluate",
        "simulate-poison",
        "evaluate-poison",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["up", "--help"],
        ["bootstrap", "--help"],
        ["demo", "--help"],
        ["learn", "--help"],
    ],
)
def test_every_devstack_command_has_help(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 0
    assert "usage: python -m devstack" in capsys.readouterr().out


@pytest.mark.parametrize("module", [services, bootstrap, demo, learning_line])
def test_module_clis_have_help(module: object, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])  # type: ignore[attr-defined]
    assert exit_.value.code == 0
    assert "usage: python -m devstack." in capsys.readouterr().out


def test_funcignore_keeps_the_local_tools_out_of_the_package() -> None:
    entries = (ROOT / ".funcignore").read_text().split()
    for local_only in ("devhost", "devstack", "tests", "bench", "infra", "docs"):
        assert local_only in entries
    for entry in entries:  # a path inside the app must exist, or it ignores nothing
        if "/" in entry.strip("/"):
            assert (ROOT / entry).exists(), entry
