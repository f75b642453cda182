"""Print the OpenAPI spec generated from the app (no artifacts are loaded): `python -m service.openapi`."""

from __future__ import annotations

import json
import sys

from service.app import create_app
from service.settings import Settings


def spec() -> str:
    app = create_app(Settings())
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(spec())
