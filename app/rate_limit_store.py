"""Where the rate-limit counters live: this process's memory, or Redis shared by every
api process. Both count as the `limits` library's sliding-window-counter strategy does.

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

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from redis.exceptions import ResponseError

from app.rate_limit_policy import Policy
from app.redis_pipeline import RedisPipeline, resp

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


@dataclass(slots=True)  # not frozen: a frozen init costs an allowed hit ~0.6 µs more
class Decision:
    """A hit's outcome, and the window the RateLimit headers report (the tightest)."""

    allowed: bool
    index: int  # which window of the policy
    remaining: int
    reset_seconds: int  # Retry-After when refused

    @classmethod
    def of(cls, allowed: bool, windows: list[Window]) -> Decision:
        if allowed:
            remaining = [window.remaining for window in windows]
            least = min(remaining)
            index = remaining.index(least)  # the first of the tightest
            window = windows[index]
            wait = window.seconds_until_free() if least == 0 else window.seconds_until_window_ends()
            return cls(True, index, least, _whole_seconds(wait))
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
    """This process's counters: right for one process (`make run`, a laptop).

    `limits`' sliding window counter as its memory storage keeps it — windows aligned on
    the clock (window n of an expiry e is [n·e, (n+1)·e)), the previous window weighing
    by the part of it that still overlaps — in one record per window and caller that
    shifts when a window ends. `limits`' own storage costs more than a quote's limiting
    should: a task per hit that sweeps every key, an awaited call per counter.
    A hit checks every window before counting in any, as the Redis script does.
    """

    # How often records of callers gone quiet are dropped (a hit does it, at most this often).
    SWEEP_SECONDS = 60.0

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        # Each caller's records of a group, one per window of its policy, in its order:
        # one lookup per hit, and no `limits` key string to build (only this process reads
        # them; Redis keeps `limits`' keys).
        self._records: dict[tuple[str, str], list[_Record]] = {}
        self._swept_at = clock()

    async def hit(self, policy: Policy, identity: str) -> Decision | None:
        now = self._clock()
        records = self._records_now(policy, identity, now)
        # Allowed, the usual answer, decided without building the windows: counted in
        # each, reported by the tightest (the first of them), as Decision.of does.
        index, least = 0, 0
        for at, record in enumerate(records):
            left = record.remaining_at(now)
            if not left:  # refused: the general rule says for how long
                return Decision.of(False, self._windows_now(records, now))
            if not at or left < least:
                index, least = at, left
        for record in records:
            record.current_count += 1
        tightest = records[index]
        if least == 1:  # none left now: when one more fits
            reset = _whole_seconds(tightest.window(now).seconds_until_free())
        else:
            reset = tightest.whole_seconds_until_window_ends(now)
        return Decision(True, index, least - 1, reset)

    async def peek(self, policy: Policy, identity: str) -> Decision | None:
        now = self._clock()
        records = self._records_now(policy, identity, now)
        windows = self._windows_now(records, now)
        return Decision.of(all(window.remaining for window in windows), windows)

    async def close(self) -> None:
        self._records.clear()

    def windows(self, policy: Policy, identity: str) -> list[Window]:
        """What each window of a caller's policy holds now (nothing counted)."""
        return self._windows_now(self._records_of(policy, identity), self._clock())

    @staticmethod
    def _windows_now(records: list[_Record], now: float) -> list[Window]:
        for record in records:
            record.remaining_at(now)  # moved to now's window
        return [record.window(now) for record in records]

    def _records_now(self, policy: Policy, identity: str, now: float) -> list[_Record]:
        """A caller's records for a policy (quiet callers' dropped now and then)."""
        if now - self._swept_at > self.SWEEP_SECONDS:
            self._sweep(now)
        records = self._records.get((policy.name, identity))
        if records is None or len(records) != len(policy.items):
            return self._records_of(policy, identity)
        return records

    def _records_of(self, policy: Policy, identity: str) -> list[_Record]:
        key = (policy.name, identity)
        records = self._records.get(key)
        count = len(policy.items)
        if records is None or len(records) < count:
            known = records or []
            records = self._records[key] = known + [
                _Record(item.amount, item.get_expiry()) for item in policy.items[len(known) :]
            ]
        return records if len(records) == count else records[:count]

    def _sweep(self, now: float) -> None:
        self._swept_at = now
        for key, records in list(self._records.items()):
            # Both windows of every record are over.
            if all(record.number < int(now / record.expiry) - 1 for record in records):
                del self._records[key]


@dataclass(slots=True)
class _Record:
    """One caller's counts in a window (`number`) and in the one before it."""

    limit: int
    expiry: int
    number: int = 0
    previous_count: int = 0
    current_count: int = 0

    def remaining_at(self, now: float) -> int:
        """What `Window.remaining` would say at `now`: the record is first moved to the
        window `now` falls in (a hit is decided without building windows)."""
        expiry = self.expiry
        number = int(now / expiry)
        if number != self.number:
            self.previous_count = self.current_count if number == self.number + 1 else 0
            self.current_count = 0
            self.number = number
        previous = self.previous_count
        if not previous:
            left = self.limit - self.current_count
        else:  # _previous_ttl, inlined: this runs on every hit
            previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry
            left = self.limit - math.floor(previous * previous_ttl / expiry) - self.current_count
        return left if left > 0 else 0

    def window(self, now: float) -> Window:
        """What `limits`' memory storage reports for it: the previous window weighs until
        the current one ends, and the current counter lives one window more."""
        previous_ttl = self._previous_ttl(now) if self.previous_count else 0.0
        current_ttl = self._current_left(now) + self.expiry
        return Window(
            self.limit,
            self.expiry,
            self.previous_count,
            previous_ttl,
            self.current_count,
            current_ttl,
        )

    def whole_seconds_until_window_ends(self, now: float) -> int:
        """`_whole_seconds(self.window(now).seconds_until_window_ends())`, without the
        window: `_current_left` and `_whole_seconds` inlined, for every allowed hit."""
        expiry = self.expiry
        current_left = (1 - ((now / expiry) % 1)) * expiry
        # current_left > 0, so this is never below 0 (`Window`'s max(…, 0.0)) and the
        # ceiling is at least 1 (`_whole_seconds`' max)
        return math.ceil(((current_left + expiry - expiry) or float(expiry)) + 0.001)

    def _current_left(self, now: float) -> float:
        # `limits`' arithmetic, to the last bit: (n + 1)·e - now, written its way
        expiry = self.expiry
        return (1 - ((now / expiry) % 1)) * expiry

    def _previous_ttl(self, now: float) -> float:
        expiry = self.expiry
        return (1 - (((now - expiry) / expiry) % 1)) * expiry


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


SLIDING_WINDOWS_SHA = hashlib.sha1(SLIDING_WINDOWS_LUA.encode()).hexdigest().encode()


class RedisCounters:
    """Counters every api process shares, in Redis (REDIS_URL).

    The script is called on one connection (app/redis_pipeline.py) that carries every
    request in flight at once, with its EVALSHA command encoded once per caller:
    redis-py's client — a pool or a lock, packing the arguments, its response callbacks
    — cost three times the round trip itself.
    """

    # Commands kept encoded; past this many callers (an address flood) they start over.
    COMMANDS_KEPT = 10_000

    def __init__(self, url: str, key_prefix: str, on_error: Callable[[], None]) -> None:
        self._pipeline = RedisPipeline(url, REDIS_TIMEOUT_SECONDS)
        self._commands: dict[tuple[str, str, bool], tuple[Policy, bytes]] = {}
        self._prefix = key_prefix
        self._on_error = on_error
        self._retry_at = 0.0

    async def hit(self, policy: Policy, identity: str) -> Decision | None:
        seen = await self._run(policy, identity, consume=True)
        if seen is None:
            return None
        if seen[0]:
            decision = self._allowed(policy, seen)
            if decision is not None:
                return decision
        return Decision.of(bool(seen[0]), self._windows(policy, seen))

    async def peek(self, policy: Policy, identity: str) -> Decision | None:
        seen = await self._run(policy, identity, consume=False)
        if seen is None:
            return None
        return Decision.of(bool(seen[0]), self._windows(policy, seen))

    async def close(self) -> None:
        self._pipeline.close()

    async def _run(self, policy: Policy, identity: str, *, consume: bool) -> list[int] | None:
        if self._retry_at and time.monotonic() < self._retry_at:
            return None
        command = self._command(policy, identity, consume)
        try:
            # Bounded by the pipeline's timeout (REDIS_TIMEOUT_SECONDS), one timer for all
            # calls: a timer per call cost a quote ~10 µs more.
            seen = await self._call(command)
        except Exception as failure:  # the socket's, a timeout, Redis's error, or a bug of
            # ours: whatever it is, the request is served unlimited rather than failed
            self._retry_at = time.monotonic() + STORE_RETRY_SECONDS
            self._on_error()
            log.warning(
                "rate limits off for %.0f s: Redis failed (%r)", STORE_RETRY_SECONDS, failure
            )
            # A silent Redis leaves replies owed on the connection: start afresh.
            self._pipeline.close()
            return None
        self._retry_at = 0.0
        return seen

    async def _call(self, command: bytes) -> list[int]:
        try:
            return await self._evalsha(command)
        except ConnectionError:
            # Once more, at once: a connection Redis dropped (a restart, an idle timeout)
            # is connected again by the next call.
            return await self._evalsha(command)

    async def _evalsha(self, command: bytes) -> list[int]:
        try:
            seen: list[int] = await self._pipeline.call(command)
        except ResponseError as error:
            if not str(error).startswith("NOSCRIPT"):
                raise
            # A Redis restarted, or its scripts flushed: load the script, then call again.
            await self._pipeline.call(resp(b"SCRIPT", b"LOAD", SLIDING_WINDOWS_LUA))
            seen = await self._pipeline.call(command)
        return seen

    def _command(self, policy: Policy, identity: str, consume: bool) -> bytes:
        """The EVALSHA command of a caller's hit (or peek), encoded once."""
        cache_key = (policy.name, identity, consume)
        cached = self._commands.get(cache_key)
        if cached is not None and cached[0] is policy:
            return cached[1]
        if len(self._commands) >= self.COMMANDS_KEPT:
            self._commands.clear()
        keys = self.keys(policy, identity)
        args: list[str | int] = [int(consume)]
        for item in policy.items:
            args += (item.amount, item.get_expiry())
        command = resp(b"EVALSHA", SLIDING_WINDOWS_SHA, len(keys), *keys, *args)
        self._commands[cache_key] = (policy, command)
        return command

    def keys(self, policy: Policy, identity: str) -> list[str]:
        """Each window's previous and current key, as `limits`' Redis storage names them."""
        keys: list[str] = []
        for item in policy.items:
            current = f"{self._prefix}:{{{item.key_for(policy.name, identity)}}}"
            keys += (f"{current}/-1", current)
        return keys

    @staticmethod
    def _allowed(policy: Policy, seen: list[int]) -> Decision | None:
        """`Decision.of(True, windows)` without building the windows, when the tightest
        window still has room after this hit (None otherwise: the general rule says when
        one more fits). A frozen `Window` per window cost every allowed hit ~1 µs each."""
        index, least, until_end = 0, 0, 0.0
        for i, item in enumerate(policy.items):
            expiry = item.get_expiry()
            # Window.remaining and seconds_until_window_ends, in the same arithmetic
            weighted = math.floor(seen[1 + 4 * i] * (seen[2 + 4 * i] / 1000) / expiry)
            left = item.amount - weighted - seen[3 + 4 * i]
            left = left if left > 0 else 0
            if not i or left < least:
                index, least = i, left
                until_end = max(seen[4 + 4 * i] / 1000 - expiry, 0.0) or float(expiry)
        if not least:
            return None
        return Decision(True, index, least, _whole_seconds(until_end))

    @staticmethod
    def _windows(policy: Policy, seen: list[int]) -> list[Window]:
        return [
            Window(
                item.amount,
                item.get_expiry(),
                seen[1 + 4 * i],
                seen[2 + 4 * i] / 1000,
                seen[3 + 4 * i],
                seen[4 + 4 * i] / 1000,
            )
            for i, item in enumerate(policy.items)
        ]
