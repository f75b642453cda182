"""Print the OpenAPI spec generated from the app (no artifacts are loaded): `python -m service.openapi`."""

from __future__ import annotations

import json
import sys

from litestar.serialization import encode_json

from service.app import create_app
from service.settings import Settings


def spec() -> str:
    app = create_app(Settings())
    # Litestar's encoder knows the Structs used in examples; re-dump with sorted keys for stable diffs
    plain = json.loads(encode_json(app.openapi_schema.to_schema()))
    return json.dumps(plain, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(spec())
