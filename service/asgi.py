"""ASGI entry point for uvicorn: `uvicorn --factory service.asgi:app` (settings from POLYGLOT_* env)."""

from litestar import Litestar

from service.app import create_app
from service.settings import Settings


def app() -> Litestar:
    return create_app(Settings.from_env())
