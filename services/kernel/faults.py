"""Named crash points for end-to-end fault tests: a process SIGKILLs itself where told to.

Off unless `TASKFORCE_CRASH_AT` names a point; never used for control flow.
"""

import os
import signal


def crash_point(name: str, crash_at: str | None, detail: str | None = None) -> None:
    """`crash_at` names the point, optionally narrowed by a detail (`point:detail`, e.g. the
    event type a consumer has just committed)."""
    if crash_at is not None and crash_at in (name, f"{name}:{detail}"):
        os.kill(os.getpid(), signal.SIGKILL)
