"""`make bench` is not part of CI, so its event and market benchmarks run here at a tiny size:
the one must still start the stack, push every task through to matching, and report; the other
generate a market, match it end to end in a process of its own, and report."""

import pytest

from benchmarks import events, market

pytestmark = pytest.mark.e2e


def test_the_event_benchmark_runs_end_to_end_at_a_small_size() -> None:
    rows = dict(events.run(count=20, concurrency=4))
    assert rows["reached matching"] == "20 of 20"
    assert float(rows["API throughput (create+publish pairs/s)"]) > 0


def test_the_market_benchmark_runs_end_to_end_at_a_small_size() -> None:
    rows = dict(market.run(sizes=("500x50",), latency=None))
    assert rows["500x50: targets"] == "met"
    assert "OPTIMAL" in rows["500x50: objective"]
