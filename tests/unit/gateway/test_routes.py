"""The gateway's route table: which upstream serves each `/v1` path."""

import pytest

from services.gateway.routes import ROUTES, upstream_for
from services.gateway.settings import GatewaySettings


@pytest.mark.parametrize(
    ("path", "upstream"),
    [
        ("/v1/tasks/t1/candidates", "matching"),
        ("/v1/tasks/t1/candidates/w1", "matching"),
        ("/v1/workers/w1/recommendations", "matching"),
        ("/v1/match-runs", "matching"),
        ("/v1/match-runs/r1", "matching"),
        ("/v1/match-runs:start", "matching"),
        ("/v1/assignments", "matching"),
        ("/v1/assignments/a1", "matching"),
        ("/v1/assignments/a1:accept", "matching"),
        ("/v1/workers/w1/ledger", "matching"),
        ("/v1/workers/w1/ledger/extra", "profiles"),
        ("/v1/tasks/t1/interests", "matching"),
        ("/v1/tasks/t1/interests/extra", "catalog"),
        ("/v1/workers/w1/interests", "matching"),
        ("/v1/workers/w1/interests/t1", "matching"),
        ("/v1/workers/w1/interests/t1/extra", "profiles"),
        ("/v1/workers/w1/interestsx", "profiles"),
        ("/v1/tasks", "catalog"),
        ("/v1/tasks/t1", "catalog"),
        ("/v1/tasks/t1:publish", "catalog"),
        ("/v1/tasks/t1/candidatesx", "catalog"),
        ("/v1/jobs/j1/tasks", "catalog"),
        ("/v1/workers", "profiles"),
        ("/v1/workers/w1/skills", "profiles"),
        ("/v1/workers/w1/recommendations/extra", "profiles"),
        ("/v1/skills:normalize", "profiles"),
        ("/v1/skill-imports", "profiles"),
        ("/v1/job-imports", "catalog"),
        ("/v1/jobs:deconstruct", "catalog"),
        ("/v1/skill-imports/0b7c2a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f", "profiles"),
        ("/v1/workers:bulk", "profiles"),
        ("/v1/skills/http%3A%2F%2Fdata.europa.eu%2Fesco%2Fskill%2Fabc", "profiles"),
    ],
)
def test_each_path_goes_to_the_service_that_owns_it(path: str, upstream: str) -> None:
    assert upstream_for(path) == upstream


@pytest.mark.parametrize(
    "path",
    [
        "/v1/unknown",
        "/v1/",
        "/v1",
        "/v1/taskset",
        "/v1/workersx/w1",
        "/v2/tasks",
        "/healthz",
        "/v1/tasks\n",
        "/v1/tasks/../../metrics",
        "/v1/tasks/./t1",
        "/v1/workers/w1/interests/..",
    ],
)
def test_a_path_no_service_owns_has_no_upstream(path: str) -> None:
    assert upstream_for(path) is None


def test_every_upstream_in_the_table_has_a_configured_url() -> None:
    assert {upstream for _, upstream in ROUTES} == set(GatewaySettings().upstream_urls())
