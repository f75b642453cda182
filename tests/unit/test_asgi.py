"""service/asgi.py replaces a private asyncio function; this fails if the replacement stops applying."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import socket

from service import asgi


async def server_side_nodelay() -> int:
    """TCP_NODELAY on the server's end of a connection accepted from a listener of protocol 0 (what
    uvicorn hands each worker when there are several)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: asyncio.Future[socket.socket] = asyncio.get_running_loop().create_future()

    class Keep(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.set_result(transport.get_extra_info("socket"))

    server = await asyncio.get_running_loop().create_server(Keep, sock=listener)
    _, writer = await asyncio.open_connection(*listener.getsockname())
    value = (await accepted).getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    writer.close()
    server.close()
    return int(value)


def test_the_nodelay_replacement_is_the_function_asyncio_calls() -> None:
    original = asyncio.base_events._set_nodelay  # type: ignore[attr-defined]
    try:
        asgi.app()
        assert asyncio.base_events._set_nodelay is asgi._set_nodelay  # type: ignore[attr-defined]
        assert asyncio.run(server_side_nodelay()) == 1
    finally:
        asyncio.base_events._set_nodelay = original  # type: ignore[attr-defined]


def test_warm_up_reads_one_byte_of_every_page() -> None:
    import numpy as np

    from service.app import touch_pages

    pages = np.zeros((3, 4096), dtype=np.uint8)
    pages[:, 0], pages[:, 1] = [1, 2, 3], 9  # the first byte of each page counts, no other
    assert touch_pages(pages) == 6
    assert touch_pages(np.ones((5, 7), dtype=np.float16)) == 0  # one page, its first byte: 0x00 of 1.0
