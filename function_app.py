"""The function app: the ASGI HTTP surface plus the trigger blueprints. Nothing else lives here."""

import azure.functions as func

from functions import blueprints
from functions.api import create_app

app = func.AsgiFunctionApp(app=create_app(), http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in blueprints.ALL:
    app.register_functions(blueprint)
