"""`make bench` is not part of CI, so its event benchmark runs here at a tiny size: it must
still start the stack, push every task through to matching, and report."""

import pytest

from benchmarks import events

pytestmark = pytest.mark.e2e


def test_the_event_benchmark_runs_end_to_end_at_a_small_size() -> None:
    rows = dict(events.run(count=20, concurrency=4))
    assert rows["reached matching"] == "20 of 20"
    assert float(rows["API throughput (create+publish pairs/s)"]) > 0
