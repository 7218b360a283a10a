"""`taskforce match`: ask for a match run through the gateway and follow it with a progress
bar; Ctrl-C cancels the run. A client of the public API, so it works against any deployment."""

import time
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from taskforce.importing import problem_line


class MatchRunFailed(Exception):
    """One line for the operator."""


def follow_run(
    url: str, token: str, body: dict[str, Any], console: Console, poll_s: float = 0.5
) -> dict[str, Any]:
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        asked = http.post("/v1/match-runs", json=body)
        if asked.status_code != 202:
            raise MatchRunFailed(f"the run was refused: {problem_line(asked)}")
        run, location = asked.json(), asked.headers["location"]
        columns = (
            TextColumn("Match run: {task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
        )
        try:
            with Progress(*columns, console=console) as progress:
                bar = progress.add_task(run["phase"], total=1.0)
                while run["status"] in ("queued", "running"):
                    time.sleep(poll_s)
                    polled = http.get(location)
                    if polled.status_code != 200:
                        raise MatchRunFailed(f"cannot follow the run: {problem_line(polled)}")
                    run = polled.json()
                    progress.update(bar, completed=run["progress"], description=run["phase"])
        except KeyboardInterrupt:
            http.post(f"{location}:cancel")
            raise
        if run["status"] != "succeeded":
            raise MatchRunFailed(f"the run {run['status']}: {run.get('error') or 'no proposals'}")
        return run


def run_summary(run: dict[str, Any]) -> str:
    s = run["statistics"]
    greedy = s.get("greedy_objective")
    return (
        f"Run {run['id']}: {s['tasks']} tasks, {s['workers']} workers, "
        f"{s['candidate_pairs']} candidate pairs in {s['components']} components; "
        f"objective {s['objective']} (greedy {greedy}, bound {s['best_bound']}, "
        f"gap {s['gap']:.2%}), {s['solver_status']} in {s['wall_s']} s. "
        f"Proposals: /v1/match-runs/{run['id']}/proposals"
    )
