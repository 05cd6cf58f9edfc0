"""`python -m devstack COMMAND [options]`: every local-stack command in one place."""

from __future__ import annotations

import argparse
import sys

from devstack import services

PROG = "python -m devstack"
COMMANDS = {
    "run": "the emulators, bootstrap and the host in the foreground, plus a demo call; Ctrl-C"
    " stops them",
    "up": "the same in the background; returns when /api/health answers 200",
    "down": "stop everything `run`/`up`/`emulators` started",
    "status": "which local services answer on their ports",
    "emulators": "start Azurite and the Cosmos DB emulator in the background",
    "bootstrap": "create the database, containers and queues the app uses",
    "demo": "one rank and one reward against a running host",
    "learn": "simulated shoppers in a running host, and a learning line every few seconds",
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The local stack: Azurite, the Cosmos DB emulator and the app on devhost."
        " `python -m devstack COMMAND --help` shows a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n" + "\n".join(f"  {name:10} {text}" for name, text in COMMANDS.items()),
    )
    parser.add_argument("command", choices=COMMANDS, metavar="COMMAND", help="see below")
    parser.add_argument("options", nargs=argparse.REMAINDER, help="options of the command")
    args = parser.parse_args(argv)
    if args.command == "bootstrap":
        from devstack import bootstrap

        bootstrap.main(args.options, prog=f"{PROG} bootstrap")
    elif args.command == "demo":
        from devstack import demo

        demo.main(args.options, prog=f"{PROG} demo")
    elif args.command == "learn":
        from devstack import learning_line

        learning_line.main(args.options, prog=f"{PROG} learn")
    else:
        services.main([args.command, *args.options], prog=PROG)


if __name__ == "__main__":
    main(sys.argv[1:])
