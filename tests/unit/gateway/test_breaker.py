"""The circuit breaker's states, driven by a hand-moved clock."""

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from services.gateway.breaker import Breaker, CircuitOpen, open_breakers, register_breaker_gauge


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def a_breaker(clock: Clock, threshold: int = 3, cooldown_s: float = 10.0) -> Breaker:
    return Breaker("catalog", threshold, cooldown_s, clock=clock)


def fail(breaker: Breaker, times: int) -> None:
    for _ in range(times):
        breaker.admit()
        breaker.failed()


def test_the_circuit_opens_after_threshold_consecutive_failures_only() -> None:
    clock = Clock()
    breaker = a_breaker(clock)

    fail(breaker, 2)
    breaker.admit()
    breaker.succeeded()
    fail(breaker, 2)
    assert breaker.state == "closed"

    fail(breaker, 1)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen) as refused:
        breaker.admit()
    assert refused.value.retry_after_s == 10


def test_retry_after_counts_down_the_cooldown_in_whole_seconds_never_below_one() -> None:
    clock = Clock()
    breaker = a_breaker(clock)
    fail(breaker, 3)

    clock.now += 7.5
    with pytest.raises(CircuitOpen) as refused:
        breaker.admit()
    assert refused.value.retry_after_s == 3

    clock.now += 2.4
    with pytest.raises(CircuitOpen) as refused:
        breaker.admit()
    assert refused.value.retry_after_s == 1


def test_after_the_cooldown_one_probe_goes_through_and_its_success_closes_the_circuit() -> None:
    clock = Clock()
    breaker = a_breaker(clock)
    fail(breaker, 3)
    clock.now += 10

    assert breaker.state == "half-open"
    breaker.admit()
    with pytest.raises(CircuitOpen):
        breaker.admit()  # a second caller while the probe is out

    breaker.succeeded()
    assert breaker.state == "closed"
    breaker.admit()
    breaker.admit()


def test_a_failed_probe_reopens_for_a_whole_new_cooldown() -> None:
    clock = Clock()
    breaker = a_breaker(clock)
    fail(breaker, 3)
    clock.now += 10

    fail(breaker, 1)

    assert breaker.state == "open"
    clock.now += 9.9
    assert breaker.state == "open"
    clock.now += 0.1
    assert breaker.state == "half-open"


def test_an_abandoned_probe_frees_the_slot_for_the_next_caller() -> None:
    clock = Clock()
    breaker = a_breaker(clock)
    fail(breaker, 3)
    clock.now += 10
    breaker.admit()

    breaker.abandoned()

    breaker.admit()
    assert breaker.state == "half-open"


def test_the_gauge_shows_each_upstreams_current_state() -> None:
    clock = Clock()
    breakers = open_breakers(["catalog", "profiles"], threshold=1, cooldown_s=5)
    for breaker in breakers.values():
        breaker.clock = clock
    registry = CollectorRegistry()
    register_breaker_gauge(registry, breakers)

    fail(breakers["profiles"], 1)

    text = generate_latest(registry).decode()
    assert 'gateway_upstream_circuit_state{state="open",upstream="profiles"} 1.0' in text
    assert 'gateway_upstream_circuit_state{state="closed",upstream="profiles"} 0.0' in text
    assert 'gateway_upstream_circuit_state{state="closed",upstream="catalog"} 1.0' in text
    clock.now += 5
    text = generate_latest(registry).decode()
    assert 'gateway_upstream_circuit_state{state="half-open",upstream="profiles"} 1.0' in text
