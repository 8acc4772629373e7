"""Where the rate-limit counters live: this process's memory, or Redis shared by every
api process. Both run the `limits` library's sliding-window-counter strategy.

A sliding window counter keeps two integers per window and caller (O(1) memory, even at
"1000000/second", where a moving window would keep a million timestamps per caller).

One hit is one round trip to Redis that decides *and* reports the window it saw:
`limits`' Redis strategy answers a hit with a bool and needs a second round trip for the
remaining count that the RateLimit headers show on every answer. So the Redis counter runs
the strategy's own Lua script (limits/resources/redis/lua_scripts/acquire_sliding_window.lua),
extended to check every window of a policy at once and return what it saw. Its keys are
the ones `limits` uses (`<prefix>:{<item key>}` and `…/-1`): its stock strategy reads
them, which a test checks.

When Redis can't be reached the limiter fails open: the request is served unlimited, a
warning is logged and `rate_limit_store_errors_total` counts it; for a few seconds after,
the store is not tried at all, so a dead Redis costs no request a timeout. Refusing
payment webhooks or every quote because a counter is unreachable would be worse than a
few minutes without limits.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio
from limits import RateLimitItem
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.rate_limit_policy import Policy

log = logging.getLogger("app.rate_limits")

# After a failure, how long requests go unlimited before the store is tried again.
STORE_RETRY_SECONDS = 5.0
# A limiter that waits longer than this for Redis costs more than it protects.
REDIS_TIMEOUT_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Window:
    """What one window of a policy held, the request included when it was allowed."""

    limit: int
    expiry: int  # seconds
    previous_count: int
    previous_ttl: float  # seconds the previous window still weighs
    current_count: int
    current_ttl: float  # seconds the current counter lives (its window ends at ttl - expiry)

    @property
    def remaining(self) -> int:
        weighted = math.floor(self.previous_count * self.previous_ttl / self.expiry)
        return max(0, self.limit - weighted - self.current_count)

    def seconds_until_free(self) -> float:
        """When one more request fits. The previous window's count weighs less as it
        ends, and a request fits while floor(previous weight) + current < limit; when the
        current window ends its count (at most the limit) becomes that previous one."""
        end = max(self.current_ttl - self.expiry, 0.0)
        room = self.limit - 1 - self.current_count
        if room >= 0 and self.previous_count == 0:
            return 0.0
        if room >= 0:
            # floor(previous * ttl / expiry) <= room once ttl < (room + 1) * expiry / previous
            wait = self.previous_ttl - (room + 1) * self.expiry / self.previous_count
            if wait < end:
                return max(wait, 0.0)
        return end

    def seconds_until_window_ends(self) -> float:
        return max(self.current_ttl - self.expiry, 0.0) or float(self.expiry)


@dataclass(frozen=True, slots=True)
class Decision:
    """A hit's outcome, and the window the RateLimit headers report (the tightest)."""

    allowed: bool
    index: int  # which window of the policy
    remaining: int
    reset_seconds: int  # Retry-After when refused

    @classmethod
    def of(cls, allowed: bool, windows: list[Window]) -> Decision:
        if allowed:
            index = min(range(len(windows)), key=lambda i: windows[i].remaining)
            window = windows[index]
            wait = (
                window.seconds_until_free()
                if window.remaining == 0
                else window.seconds_until_window_ends()
            )
            return cls(True, index, window.remaining, _whole_seconds(wait))
        waits = [w.seconds_until_free() if w.remaining == 0 else 0.0 for w in windows]
        index = max(range(len(windows)), key=lambda i: waits[i])
        return cls(False, index, 0, _whole_seconds(waits[index]))


def _whole_seconds(wait: float) -> int:
    """Seconds for a header: rounded up (a millisecond past the boundary), at least 1."""
    return max(1, math.ceil(wait + 0.001))


class Counters(Protocol):
    async def hit(self, policy: Policy, identity: str) -> Decision | None:
        """Count one request; None when the store failed (serve it unlimited)."""

    async def peek(self, policy: Policy, identity: str) -> Decision | None:
        """Whether one more request would be allowed, without counting one."""

    async def close(self) -> None: ...


class InProcessCounters:
    """`limits`' in-memory storage: right for one process (`make run`, a laptop)."""

    def __init__(self) -> None:
        self._storage = MemoryStorage()
        self._strategy = SlidingWindowCounterRateLimiter(self._storage)

    async def hit(self, policy: Policy, identity: str) -> Decision | None:
        allowed = True
        for item in policy.items:
            if not await self._strategy.hit(item, policy.group.value, identity):
                allowed = False
                break
        windows = [await self._window(item, policy, identity) for item in policy.items]
        return Decision.of(allowed, windows)

    async def peek(self, policy: Policy, identity: str) -> Decision | None:
        windows = [await self._window(item, policy, identity) for item in policy.items]
        return Decision.of(all(w.remaining > 0 for w in windows), windows)

    async def _window(self, item: RateLimitItem, policy: Policy, identity: str) -> Window:
        key = item.key_for(policy.group.value, identity)
        expiry = item.get_expiry()
        previous, previous_ttl, current, current_ttl = await self._storage.get_sliding_window(
            key, expiry
        )
        return Window(item.amount, expiry, previous, previous_ttl, current, current_ttl)

    async def close(self) -> None:
        await self._storage.reset()


# KEYS: each window's previous and current counter; ARGV: 1 to count the request (0 to
# only look), then each window's limit and expiry in seconds. Times are milliseconds.
# Returns allowed (1/0), then per window: previous count, previous TTL, current count,
# current TTL — the request counted in the current count when it was allowed.
SLIDING_WINDOWS_LUA = """
local consume = tonumber(ARGV[1])
local seen = {}
local allowed = 1
for i = 1, #KEYS / 2 do
    local previous, current = KEYS[2 * i - 1], KEYS[2 * i]
    local limit = tonumber(ARGV[2 * i])
    local expiry = tonumber(ARGV[2 * i + 1]) * 1000
    local current_ttl = tonumber(redis.call('pttl', current))
    if current_ttl > 0 and current_ttl < expiry then
        -- the current window is over: it becomes the previous one
        redis.call('rename', current, previous)
        redis.call('set', current, 0, 'PX', current_ttl + expiry)
    end
    local previous_count = tonumber(redis.call('get', previous)) or 0
    local previous_ttl = math.max(tonumber(redis.call('pttl', previous)), 0)
    local current_count = tonumber(redis.call('get', current)) or 0
    current_ttl = math.max(tonumber(redis.call('pttl', current)), 0)
    if math.floor(previous_count * previous_ttl / expiry) + current_count + 1 > limit then
        allowed = 0
    end
    seen[i] = {previous_count, previous_ttl, current_count, current_ttl, expiry}
end
if allowed == 1 and consume == 1 then
    for i = 1, #seen do
        local current = KEYS[2 * i]
        if seen[i][4] > 0 then
            redis.call('incrby', current, 1)
        else
            seen[i][4] = seen[i][5] * 2
            redis.call('set', current, 1, 'PX', seen[i][4])
        end
        seen[i][3] = seen[i][3] + 1
    end
end
local answer = {allowed}
for i = 1, #seen do
    for j = 1, 4 do
        answer[#answer + 1] = seen[i][j]
    end
end
return answer
"""


class RedisCounters:
    """Counters every api process shares, in Redis (REDIS_URL).

    A few clients of one connection each, taken in turn, rather than one client over a
    connection pool: redis-py's pool costs about as much CPU per command again as the
    command itself, and a limited request is one short script, so a few connections
    carry a process's load.
    """

    CONNECTIONS = 4

    def __init__(self, url: str, key_prefix: str, on_error: Callable[[], None]) -> None:
        self._clients = [
            redis.asyncio.Redis.from_url(
                url,
                single_connection_client=True,
                # No socket_timeout: redis-py wraps each read in asyncio.wait_for, a task
                # per command; the call is bounded as a whole in `_run` instead.
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 1),  # once, at once: a connection Redis dropped
            )
            for _ in range(self.CONNECTIONS)
        ]
        self._scripts = [client.register_script(SLIDING_WINDOWS_LUA) for client in self._clients]
        self._turn = 0
        self._prefix = key_prefix
        self._on_error = on_error
        self._retry_at = 0.0

    async def hit(self, policy: Policy, identity: str) -> Decision | None:
        seen = await self._run(policy, identity, 1)
        if seen is None:
            return None
        return Decision.of(bool(seen[0]), self._windows(policy, seen))

    async def peek(self, policy: Policy, identity: str) -> Decision | None:
        seen = await self._run(policy, identity, 0)
        if seen is None:
            return None
        return Decision.of(bool(seen[0]), self._windows(policy, seen))

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def _run(self, policy: Policy, identity: str, consume: int) -> list[int] | None:
        if self._retry_at and time.monotonic() < self._retry_at:
            return None
        args: list[int] = [consume]
        for item in policy.items:
            args += (item.amount, item.get_expiry())
        self._turn = (self._turn + 1) % self.CONNECTIONS
        script = self._scripts[self._turn]
        try:
            # Bounded as a whole: waiting for a busy connection counts too.
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS):
                seen: list[int] = await script(self.keys(policy, identity), args)
        except (redis.RedisError, OSError, TimeoutError) as failure:
            self._retry_at = time.monotonic() + STORE_RETRY_SECONDS
            self._on_error()
            log.warning(
                "rate limits off for %.0f s: Redis failed (%r)", STORE_RETRY_SECONDS, failure
            )
            return None
        self._retry_at = 0.0
        return seen

    def keys(self, policy: Policy, identity: str) -> list[str]:
        """Each window's previous and current key, as `limits`' Redis storage names them."""
        keys: list[str] = []
        for item in policy.items:
            current = f"{self._prefix}:{{{item.key_for(policy.group.value, identity)}}}"
            keys += (f"{current}/-1", current)
        return keys

    @staticmethod
    def _windows(policy: Policy, seen: list[int]) -> list[Window]:
        return [
            Window(
                item.amount,
                item.get_expiry(),
                int(seen[1 + 4 * i]),
                int(seen[2 + 4 * i]) / 1000,
                int(seen[3 + 4 * i]),
                int(seen[4 + 4 * i]) / 1000,
            )
            for i, item in enumerate(policy.items)
        ]
