"""The gateway benchmark reads wrk's report: throughput, latency percentiles in any of wrk's
units, and the answers that must make a run invalid."""

import pytest

from benchmarks.gateway import parse_wrk

REPORT = """Running 15s test @ http://127.0.0.1:38181/v1/tasks/0c6d
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    14.02ms    3.11ms  61.20ms   88.10%
    Req/Sec   573.40     61.02   707.00     71.00%
  Latency Distribution
     50%   13.51ms
     75%   15.02ms
     90%   17.40ms
     99%    1.02s
  17140 requests in 15.02s, 16.22MB read
Requests/sec:   1141.18
Transfer/sec:      1.08MB
"""


def test_throughput_and_latency_percentiles_are_read_in_milliseconds() -> None:
    result = parse_wrk(REPORT.replace("13.51ms", "950.00us"))
    assert result.requests_per_s == pytest.approx(1141.18)
    assert result.requests == 17140
    assert result.p50_ms == pytest.approx(0.95)
    assert result.p99_ms == pytest.approx(1020.0)
    assert (result.not_ok, result.socket_errors) == (0, 0)


def test_refused_answers_and_socket_errors_are_counted() -> None:
    report = REPORT.replace(
        "Requests/sec:",
        "  Socket errors: connect 0, read 2, write 0, timeout 3\n"
        "  Non-2xx or 3xx responses: 17\nRequests/sec:",
    )
    result = parse_wrk(report)
    assert (result.not_ok, result.socket_errors) == (17, 5)


def test_anything_but_a_wrk_report_is_refused() -> None:
    with pytest.raises(ValueError, match="not wrk output"):
        parse_wrk("wrk: unknown option -- z")
