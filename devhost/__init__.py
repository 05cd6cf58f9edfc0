"""Local stand-in for the Azure Functions host (`python -m devhost`), for machines without Core
Tools. A thin runner over the app's own metadata (`app.get_functions()`):

settings_loader  local.settings.json -> os.environ (no overrides), `%NAME%` references
host_config      host.json -> typed options (queues, eventHubs, routePrefix)
app_index        import the app, list its functions, find the ASGI app behind AsgiFunctionApp
invoker          call user functions: `def` in a thread pool, `async def` on one event loop, log
queue_runner     queue triggers: backoff polling, leases, retries, `<queue>-poison`
timer_runner     timer triggers: NCRONTAB (seconds first) or TimeSpan, singleton runs
eventhub_runner  Event Hub triggers over the Azurite stand-in queues (shared/events/standin.py)
http_adapter     plain `@app.route` functions as Starlette routes
asgi             what each uvicorn worker serves (`devhost.asgi:create_app --factory`)
http_server      the uvicorn child process
host             start every runner and the HTTP child; stop them on Ctrl-C / SIGTERM
storage          queue clients per binding connection (resolved by shared/connections.py)

This package only hosts: this project's local stack (emulators, bootstrap, sample calls) is
devstack/, which uses devhost; devhost never imports devstack.
"""
