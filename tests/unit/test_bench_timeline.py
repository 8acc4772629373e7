"""`bench.low_load --timeline`: what the server saw of a share, and who paused it."""

from __future__ import annotations

from bench.timeline_app import Timeline, share_summary

MS = 1_000_000  # nanoseconds
ORDERS = "/v1/orders"


def _share(latencies_ms: list[float], path: str = ORDERS) -> list[tuple[int, int, str]]:
    """Requests 1 ms apart, each taking its latency."""
    return [(i * MS, i * MS + int(latency * MS), path) for i, latency in enumerate(latencies_ms)]


def test_a_share_whose_first_requests_waited_shows_them_first_and_in_its_p99() -> None:
    slow_start = [7.0, 6.8, 6.6] + [3.0] * 97
    summary = share_summary(_share(slow_start), [], ORDERS)
    assert "p50 3.00" in summary
    assert "p99 7.00" in summary
    assert "first 8: 7.0 6.8 6.6 3.0 3.0" in summary
    assert "collections: none" in summary


def test_only_collections_during_the_share_are_listed_with_their_pause() -> None:
    requests = _share([3.0] * 100) + _share([1.0] * 50, "/bench/asyncpg")
    during = (40 * MS, 2_500_000, 0)
    after = (500 * MS, 9 * MS, 2)
    summary = share_summary(requests, [during, after], ORDERS)
    assert "collections: gen0 2.5 ms at 40 ms" in summary
    assert "gen2" not in summary


def test_a_path_with_no_requests_says_so() -> None:
    assert share_summary(_share([3.0]), [], "/v1/webhooks/payments/generic") == "no requests"


def test_handing_the_timeline_over_empties_it_for_the_next_round() -> None:
    timeline = Timeline()
    timeline.requests.append((0, MS, ORDERS))
    timeline.collections.append((0, MS, 0))
    taken = timeline.handover()
    assert taken == {"requests": [(0, MS, ORDERS)], "collections": [(0, MS, 0)]}
    assert timeline.handover() == {"requests": [], "collections": []}
