"""Circuit breakers, one per upstream: after `threshold` consecutive failures to reach an
upstream, requests to it are refused at once for `cooldown_s`; then one probe goes through,
and its outcome closes or reopens the circuit. Pure state with an injected clock: no I/O."""

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric

State = Literal["closed", "open", "half-open"]
STATES: tuple[State, ...] = ("closed", "open", "half-open")


class CircuitOpen(Exception):
    """The upstream is not being asked at all right now; `retry_after_s` says for how long."""

    def __init__(self, upstream: str, retry_after_s: int) -> None:
        super().__init__(f"circuit of {upstream} is open")
        self.retry_after_s = retry_after_s


@dataclass
class Breaker:
    name: str
    threshold: int
    cooldown_s: float
    clock: Callable[[], float] = time.monotonic
    failures: int = 0
    opened_at: float | None = None
    # In half-open, the one request allowed through and not yet finished.
    probing: bool = field(default=False)

    @property
    def state(self) -> State:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at < self.cooldown_s:
            return "open"
        return "half-open"

    def admit(self) -> None:
        """Return when a request may go to the upstream now; raise `CircuitOpen` otherwise.
        Every admitted request must end in `succeeded`, `failed` or `abandoned`."""
        state = self.state
        if state == "closed":
            return
        if state == "half-open" and not self.probing:
            self.probing = True
            return
        raise CircuitOpen(self.name, self.retry_after_s())

    def succeeded(self) -> None:
        """The upstream answered (any status: a 5xx still proves it is reachable)."""
        self.failures, self.opened_at, self.probing = 0, None, False

    def failed(self) -> None:
        """The upstream could not be reached, or did not answer in time."""
        self.failures += 1
        # A failed probe reopens for a whole new cool-down.
        if self.probing or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self.probing = False

    def abandoned(self) -> None:
        """The request ended without telling (cancelled, or a failure that says nothing about
        reachability): a probe slot it held must not stay taken for ever."""
        self.probing = False

    def retry_after_s(self) -> int:
        """Whole seconds until a probe may go through, at least 1 (for `Retry-After`)."""
        if self.opened_at is None:
            return 1
        left = self.opened_at + self.cooldown_s - self.clock()
        return max(1, math.ceil(left))


def open_breakers(names: list[str], threshold: int, cooldown_s: float) -> dict[str, Breaker]:
    return {name: Breaker(name, threshold, cooldown_s) for name in names}


class _BreakerStates:
    """Read at scrape time, so a circuit that half-opened by the clock shows it."""

    def __init__(self, breakers: dict[str, Breaker]) -> None:
        self.breakers = breakers

    def collect(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "gateway_upstream_circuit_state",
            "1 for the state each upstream's circuit breaker is in, 0 for the others",
            labels=["upstream", "state"],
        )
        for name, breaker in self.breakers.items():
            current = breaker.state
            for state in STATES:
                gauge.add_metric([name, state], 1.0 if state == current else 0.0)
        yield gauge


def register_breaker_gauge(registry: CollectorRegistry, breakers: dict[str, Breaker]) -> None:
    registry.register(_BreakerStates(breakers))
