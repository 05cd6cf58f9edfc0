"""This project's local stack: the emulators, the resources the app needs in them, and the local
host (devhost) running the app. `python -m devstack COMMAND` (see devstack/README.md):

services   start/stop Azurite, the Cosmos DB emulator and `python -m devhost` (make run/up/down)
bootstrap  create the Cosmos database and containers, blob containers and queues; drop them
demo       one rank and one reward against a running host (what `make run` shows)

devstack uses devhost and shared/ (connections through shared/connections.py); devhost, the
generic local Functions host, never imports devstack.
"""
