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

import uvicorn

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
