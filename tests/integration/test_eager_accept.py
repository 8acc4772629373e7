"""The api's event loop (app/eager_accept.py) as a server: it serves what it accepts,
stops accepting when closed, lives through clients that hang up at once, and pauses
when the process runs out of file descriptors, as asyncio's loop does."""

from __future__ import annotations

import asyncio
import errno
import socket
import struct
import time
from collections.abc import Iterator

import pytest

from app import eager_accept
from app.eager_accept import EagerAcceptServer, new_event_loop


class Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = new_event_loop()
    yield loop
    loop.close()


async def _echo(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    answer = await reader.readexactly(len(data))
    writer.close()
    return answer


def test_it_serves_what_it_accepts_and_refuses_once_closed(
    loop: asyncio.AbstractEventLoop,
) -> None:
    server = loop.run_until_complete(loop.create_server(Echo, "127.0.0.1", 0))
    assert isinstance(server, EagerAcceptServer)
    assert server.is_serving()
    port = server.sockets[0].getsockname()[1]

    async def together() -> list[bytes]:
        return await asyncio.gather(*(_echo(port, b"%d" % n) for n in range(50)))

    answers = loop.run_until_complete(together())
    assert answers == [b"%d" % n for n in range(50)]

    server.close()
    loop.run_until_complete(server.wait_closed())
    assert not server.is_serving()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_serve_forever_returns_when_the_server_is_closed(loop: asyncio.AbstractEventLoop) -> None:
    server = loop.run_until_complete(loop.create_server(Echo, "127.0.0.1", 0))
    loop.call_later(0.05, server.close)
    loop.run_until_complete(asyncio.wait_for(server.serve_forever(), timeout=5))


def test_a_client_that_hangs_up_at_once_leaves_the_next_one_served(
    loop: asyncio.AbstractEventLoop,
) -> None:
    server = loop.run_until_complete(loop.create_server(Echo, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    for _ in range(20):  # reset (RST) before the server took the connection
        rude = socket.create_connection(("127.0.0.1", port))
        rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rude.close()
    assert loop.run_until_complete(_echo(port, b"still here")) == b"still here"
    server.close()


def test_out_of_file_descriptors_it_pauses_then_accepts_again(
    loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eager_accept, "PAUSE_SECONDS", 0.3)
    exhausted_until = time.monotonic() + 0.2
    refused = 0

    class Exhausted(socket.socket):
        def accept(self) -> tuple[socket.socket, object]:
            nonlocal refused
            if time.monotonic() < exhausted_until:
                refused += 1
                raise OSError(errno.EMFILE, "Too many open files")
            return super().accept()

    listener = Exhausted(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    server = EagerAcceptServer(loop, [listener], Echo, backlog=100)
    port = listener.getsockname()[1]

    # The first accept fails: the reader is taken off for PAUSE_SECONDS (not spinning on
    # a listener that stays readable), then put back, and the waiting client is served.
    answer = loop.run_until_complete(asyncio.wait_for(_echo(port, b"later"), timeout=5))
    assert answer == b"later"
    assert refused == 1
    server.close()
