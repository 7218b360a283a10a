"""Retry policies (tenacity) for everything that talks to the broker or the database: bounded
for a consumer's event, unbounded with a capped backoff for loops that must outlive outages."""

import logging

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

log = logging.getLogger("taskforce.retries")


def _log_retry(what: str):  # type: ignore[no-untyped-def]
    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s failed (attempt %d), retrying in %.1fs: %s",
            what,
            state.attempt_number,
            delay,
            error,
        )

    return before_sleep


def until_it_works(what: str, max_backoff_s: float = 5.0) -> AsyncRetrying:
    """Retry any error (never cancellation) forever, backing off from 0.1 s to the cap."""
    return AsyncRetrying(
        wait=wait_exponential(multiplier=0.1, max=max_backoff_s),
        retry=retry_if_exception_type(Exception),
        before_sleep=_log_retry(what),
        reraise=True,
    )


def bounded(what: str, attempts: int, first_backoff_s: float) -> AsyncRetrying:
    """Retry up to `attempts` times in all, then re-raise the last error."""
    return AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=first_backoff_s, max=10.0),
        retry=retry_if_exception_type(Exception),
        before_sleep=_log_retry(what),
        reraise=True,
    )
