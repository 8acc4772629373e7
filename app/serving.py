"""How an api process is served: the uvicorn options production (docker/entrypoint.sh),
`make run`, the bench and the tests all start it with.

The event loop is uvloop that accepts connections as asyncio's loop does
(app/eager_accept.py). libuv (under uvloop) accepts ONE connection per turn of the loop
since v1.45 (libuv pull request 3696). Under load a turn serves every ready request, so
connections opened together (a pod that just started, a proxy reconnecting, providers
delivering webhooks each on a new connection) queue in the kernel, the n-th behind n
turns. Beside 64 busy keep-alive connections, 64 opened at once waited 204 ms for their
first answer at the median and 415 ms at most on uvloop; 22-30 and 32-37 ms on asyncio's
loop or on ours, which accept every pending connection in the same turn
(`bench/accept_burst.py`; docs/benchmarks.md, "Connections opened together"). Ours keeps
uvloop's cheaper round trips: asyncio's loop cost the one-query endpoint ~10% more CPU.
"""

from __future__ import annotations

from typing import Any

EVENT_LOOP = "app.eager_accept:new_event_loop"  # uvicorn imports it: `module:factory`
HTTP_PARSER = "httptools"

# uvicorn.Config's keywords, for a process that serves from Python (`make run`).
UVICORN_CONFIG: dict[str, Any] = {"loop": EVENT_LOOP, "http": HTTP_PARSER, "access_log": False}


def uvicorn_flags(loop: str = EVENT_LOOP) -> tuple[str, ...]:
    """UVICORN_CONFIG on uvicorn's command line (another loop only to compare, in bench/).
    The access log is off: our middleware logs each request once, structured."""
    return ("--loop", loop, "--http", HTTP_PARSER, "--no-access-log")


UVICORN_FLAGS = uvicorn_flags()
