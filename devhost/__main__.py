"""`python -m devhost`: run the function app locally as `func start` would."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import sys

from devhost import http_server
from devhost.app_index import load_index
from devhost.host import Host, Options
from devhost.host_config import load_host_config
from devhost.logs import configure_logging
from devhost.settings_loader import host_section, load_local_settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devhost",
        description="Local stand-in for the Azure Functions host: serves HTTP functions and runs"
        " queue, timer and Event Hub (local queue stand-in) triggers from the app's own metadata."
        " Run it from the app directory (where host.json is).",
    )
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the app")
    parser.add_argument(
        "--port", type=int, default=None, help="HTTP port (default: Host.LocalHttpPort or 7071)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="HTTP bind address")
    parser.add_argument("--workers", type=int, default=1, help="HTTP worker processes")
    parser.add_argument("--settings", default="local.settings.json", help="local settings file")
    parser.add_argument("--host-json", default="host.json", help="host configuration file")
    parser.add_argument("--no-http", action="store_true", help="run triggers only, no HTTP")
    parser.add_argument(
        "--hub-lease",
        type=int,
        default=30,
        help="seconds a stand-in hub message stays leased before redelivery (default 30)",
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.log_level:
        os.environ["DEVHOST_LOG_LEVEL"] = args.log_level  # the HTTP workers read it too
    configure_logging(args.log_level)
    load_local_settings(args.settings)
    port = args.port or int(host_section(args.settings).get("LocalHttpPort") or 7071)
    config = load_host_config(args.host_json)
    index = load_index(args.app)
    http = None
    if not args.no_http:
        http = http_server.HttpOptions(
            app=args.app,
            settings=os.path.abspath(args.settings),
            host_json=os.path.abspath(args.host_json),
            host=args.host,
            port=port,
            workers=args.workers,
            log_level=(args.log_level or "warning").lower(),
        )
    host = Host(index, config, Options(http=http, hub_lease_seconds=args.hub_lease))
    code = host.run()
    if host.invoker.active:
        # Python would wait for those threads forever; the real host also abandons them.
        logging.getLogger("devhost").warning(
            "exiting with %d function invocation(s) still running", host.invoker.active
        )
        atexit._run_exitfuncs()  # the app's own exit hooks (e.g. flushing event buffers)
        logging.shutdown()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
