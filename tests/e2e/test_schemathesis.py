"""Schemathesis against the merged OpenAPI document the gateway serves, on the real stack: every
operation, with generated valid and invalid requests, answers no 5xx (`not_a_server_error`)
and only bodies that conform to the document (`response_schema_conformance`), as an admin, as
a worker and as a machine client (service role), so refusals are checked as well as successes.

It runs schemathesis's own command line (`st run`), which runs every phase (the schema's
examples, the coverage phase's boundary and invalid values, fuzzing, and the stateful phase
that chains operations by the ids they return). Its pytest integration for a schema that
exists only once a fixture has started the stack (`schemathesis.pytest.from_fixture`) fails
on pytest 9.2 (it reads `Function._nodeid`, which pytest no longer has).

Bounded to finish in three to four minutes on two cores: a fixed seed, at most
`EXAMPLES[role]` generated requests per operation in the fuzzing phase (the admin reaches the
most logic and gets the most), no shrinking (a failure is reported with the request that found
it and a `curl` line to replay it). Real ids (a skill, a worker, an open task, an offered
assignment, a match run) stand in for generated path and body values half of the time, so
requests reach the services' logic instead of stopping at a 404. The gateway's rate limits are
off, or the run would measure them instead of the API. No operation is excluded.
"""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builders import a_skill, a_task, a_worker
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e

SEED = 6
EXAMPLES = {"admin": 15, "worker": 10, "service": 10}
CHECKS = "not_a_server_error,response_schema_conformance"
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
NO_RATE_LIMITS = {"TASKFORCE_RATE_LIMIT_IP_PER_S": "0", "TASKFORCE_RATE_LIMIT_SUBJECT_PER_S": "0"}
# Where each seeded id may stand in for a generated value.
ID_PARAMETERS = {
    "path.skill_id": "skill_ids",
    "path.worker_id": "worker_ids",
    "path.task_id": "task_ids",
    "path.assignment_id": "assignment_ids",
    "path.run_id": "run_ids",
    "body.task_id": "task_ids",
    "body.worker_id": "worker_ids",
    "body.required_skills[*].skill_id": "skill_ids",
    "body.skills[*].skill_id": "skill_ids",
}


@dataclass(frozen=True)
class Seeded:
    skill_ids: list[str]
    worker_ids: list[str]
    task_ids: list[str]
    assignment_ids: list[str]
    run_ids: list[str]


def _seed(stack: Stack) -> Seeded:
    with stack.client("gateway", "admin", sub="schemathesis-seed") as admin:
        assert admin.post("/v1/skills", json=a_skill()).status_code == 201
        stack.wait_for_catalog_skills("taskforce:python")
        worker = admin.post("/v1/workers", json=a_worker())
        assert worker.status_code == 201, worker.text
        task_ids = []
        for title in ("Dashboard", "Report"):
            task = admin.post("/v1/tasks", json=a_task(title=title))
            assert task.status_code == 201, task.text
            assert admin.post(f"/v1/tasks/{task.json()['id']}:publish").status_code == 200
            task_ids.append(task.json()["id"])
        pair = {"task_id": task_ids[0], "worker_id": worker.json()["id"]}
        offered = eventually(
            lambda: (r := admin.post("/v1/assignments", json=pair)).status_code == 201 and r,
            what="matching knows the task and the worker",
        )
        run = admin.post("/v1/match-runs", json={"scope": {"task_ids": task_ids[1:]}})
        assert run.status_code == 202, run.text
        return Seeded(
            skill_ids=["taskforce:python"],
            worker_ids=[worker.json()["id"]],
            task_ids=task_ids,
            assignment_ids=[offered.json()["id"]],
            run_ids=[run.json()["id"]],
        )


def _config(seeded: Seeded) -> str:
    """schemathesis.toml: the seed, the bound, and the seeded ids as dictionaries."""
    lines = [
        f"seed = {SEED}",
        # No crash cache: each run starts from the seed alone.
        "[cache]",
        "enabled = false",
        "[generation]",
        "no-shrink = true",
        'database = "none"',
        "[dictionaries]",
    ]
    for name, values in vars(seeded).items():
        quoted = ", ".join(f'"{v}"' for v in values)
        lines.append(f"{name} = {{ values = [{quoted}] }}")
    lines.append("[parameters]")
    for parameter, dictionary in ID_PARAMETERS.items():
        lines.append(f'"{parameter}" = {{ dictionary = "{dictionary}", probability = 0.5 }}')
    return "\n".join(lines) + "\n"


def _schemathesis(
    config: Path, url: str, token: str, examples: int
) -> subprocess.CompletedProcess[str]:
    argv = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(examples),
        "--workers",
        "1",
    ]
    env = os.environ | {"SCHEMATHESIS_HOOKS": str(HOOKS)}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=600, env=env, cwd=config.parent
    )


def _failures(output: str) -> str:
    """The report's errors and failures (each with a curl line to replay it), else its end."""
    starts = [i for i in (output.find("=== ERRORS"), output.find("=== FAILURES")) if i >= 0]
    return output[min(starts) :] if starts else output[-4000:]


def test_no_operation_answers_a_server_error_or_an_undocumented_body(
    stack: Stack, tmp_path: Path, subtests: pytest.Subtests
) -> None:
    for name in ("catalog", "profiles", "matching"):
        stack.start(name)
    stack.start("gateway", **NO_RATE_LIMITS)
    seeded = _seed(stack)
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(seeded))
    tokens = {
        "admin": stack.token("admin", sub="schemathesis-admin"),
        "worker": stack.token("worker", sub="schemathesis-worker", worker_id=seeded.worker_ids[0]),
        "service": stack.token("service", sub="schemathesis-hris"),
    }
    for role, token in tokens.items():
        with subtests.test(role=role):
            run = _schemathesis(config, stack.url("gateway"), token, EXAMPLES[role])
            assert run.returncode == 0, (
                f"schemathesis as {role}:\n{_failures(run.stdout)}\n{run.stderr[-2000:]}"
            )
