"""Named crash points for end-to-end fault tests: a process SIGKILLs itself where told to.

Off unless `TASKFORCE_CRASH_AT` names a point; never used for control flow.
"""

import os
import signal


def crash_point(name: str, crash_at: str | None) -> None:
    if crash_at == name:
        os.kill(os.getpid(), signal.SIGKILL)
