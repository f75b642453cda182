"""ASGI entry point for uvicorn: `uvicorn --factory service.asgi:app` (settings from POLYGLOT_* env)."""

import asyncio.base_events
import socket
import sys

from litestar import Litestar

from loaders.artifact import limit_arenas
from service.app import create_app
from service.settings import Settings


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's own version, without its `proto == IPPROTO_TCP` condition.

    With several workers uvicorn hands each one the listening socket, which arrives with protocol
    0; asyncio then leaves Nagle's algorithm on for every accepted connection, and each response
    waits ~40 ms for the client's delayed ACK (measured: p50 44 ms with two workers, 1.3 ms with one).
    """
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# A worker thread in Python code between numpy calls holds the GIL for up to the switch interval at a
# time, and a waiting event loop may wait several of them: at the default 5 ms, 16 heavy requests put
# /health's worst at 150-260 ms (bench/loop_latency.py); at 1 ms the loop gets the GIL back sooner.
SWITCH_INTERVAL = 0.001


def app() -> Litestar:
    asyncio.base_events._set_nodelay = _set_nodelay  # type: ignore[attr-defined]  # in this worker only
    sys.setswitchinterval(SWITCH_INTERVAL)
    limit_arenas(2)
    return create_app(Settings.from_env())
