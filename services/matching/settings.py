"""Matching settings: the kernel's `TASKFORCE_*` variables with this service's defaults."""

from services.kernel.settings import KernelSettings


class MatchingSettings(KernelSettings):
    service_name: str = "matching"
    port: int = 8083
    database_url: str = "sqlite+aiosqlite:///var/matching.db"
    # An accepted assignment of at most this many hours a week needs no manager's approval.
    auto_approve_max_hours_per_week: float = 8.0
    # A manager who has not approved an acceptance within this time is overruled: it is
    # approved by escalation, so silence cannot keep a worker from the work.
    approval_deadline_h: float = 72.0
    # How often the worker looks for acceptances past their approval deadline.
    approval_check_interval_s: float = 30.0
    # The in-memory index reads the rows consumers changed at most this often.
    index_refresh_interval_s: float = 0.2
    # How often the worker looks for queued match runs.
    match_run_poll_interval_s: float = 0.5
