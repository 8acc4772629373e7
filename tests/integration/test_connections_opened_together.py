"""The loop an api process is served on accepts connections opened together in one turn.

Under load every turn of the loop serves every ready request, so a loop that accepts one
connection per turn (uvloop: libuv since 1.45) makes the n-th of a burst of new
connections wait n turns: 64 opened at once beside 64 busy keep-alive ones waited up to
415 ms for their first answer on uvloop, 32-37 ms on asyncio's loop or on ours
(`bench/accept_burst.py`). How long is for the bench to say; that the whole burst is
taken at once is checked here, on the very loop uvicorn builds from app/serving.py.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn

from app.eager_accept import EagerAcceptServer
from app.serving import UVICORN_CONFIG

OPENED_TOGETHER = 32


class Counted(asyncio.Protocol):
    accepted = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: ARG002
        Counted.accepted += 1


def test_connections_opened_together_are_all_accepted_in_one_turn() -> None:
    config = uvicorn.Config("app.main:create_app", factory=True, **UVICORN_CONFIG)
    loop_factory = config.get_loop_factory()
    assert loop_factory is not None
    loop = loop_factory()
    Counted.accepted = 0
    try:
        server = loop.run_until_complete(loop.create_server(Counted, "127.0.0.1", 0))
        port = server.sockets[0].getsockname()[1]
        # Blocking connects: each returns once the kernel holds it for the server to accept.
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(OPENED_TOGETHER)]
        for _ in range(3):  # a turn to accept, one for connection_made, one to spare
            loop.run_until_complete(asyncio.sleep(0))
        accepted = Counted.accepted
        for client in clients:
            client.close()
        server.close()
        loop.run_until_complete(server.wait_closed())
    finally:
        loop.close()
    assert accepted == OPENED_TOGETHER  # uvloop took 11 of them here: one a turn


async def _fixed_answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"served"})


def test_uvicorn_serves_through_the_server_that_accepts_a_burst_at_once() -> None:
    # The loop overrides create_server; this checks uvicorn still calls it to listen.
    config = uvicorn.Config(
        _fixed_answer, host="127.0.0.1", port=0, log_config=None, **UVICORN_CONFIG
    )
    server = uvicorn.Server(config)

    async def serve_one_request() -> tuple[object, bytes]:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            assert not serving.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.01)
        listener = server.servers[0]
        port = listener.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        answer = await reader.read()
        writer.close()
        server.should_exit = True
        await serving
        return listener, answer

    loop_factory = config.get_loop_factory()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        listener, answer = runner.run(serve_one_request())
    assert isinstance(listener, EagerAcceptServer)
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"\r\nserved\r\n" in answer  # chunked: no length was given
