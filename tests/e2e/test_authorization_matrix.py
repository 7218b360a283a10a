"""The authorization matrix of docs/security.md, walked cell by cell through the real gateway in
front of the real services: one request per route and role (no token for anonymous). `deny`
is the gateway's own 403 (401 without a token), `allow` is neither, `own` is let through with
the caller's own object and refused (403 or 404), or empty, with someone else's. Every route
a machine client may use is refused to a service token lacking its scope."""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.gateway.oauth_clients import add_client
from services.gateway.policy import MATRIX_ROLES, RULES, Rule, refusal
from services.kernel.auth import SCOPES
from tests.builders import a_skill, a_task, a_worker
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e

# The matrix, not the limits, is under test: every limit off, the token endpoint's too.
NO_RATE_LIMITS = {
    "TASKFORCE_RATE_LIMIT_IP_PER_S": "0",
    "TASKFORCE_RATE_LIMIT_SUBJECT_PER_S": "0",
    "TASKFORCE_OAUTH_TOKEN_PER_S": "0",
}
OWNER = "manager-1"  # owns the task and manages the first worker
SKILL = "taskforce:python"


@dataclass(frozen=True)
class Caller:
    sub: str
    worker_id: str | None = None


@dataclass
class World:
    task: str
    worker: str
    other_worker: str
    assignment: str
    run: str
    client_secret: str

    def owner(self, role: str) -> Caller:
        """Who owns what `own` guards on the seeded objects, for `role`: the first worker
        themself; the task's owner, who is also that worker's line manager; and an admin's or a
        machine client's token with the owner's subject."""
        return Caller("worker-1", self.worker) if role == "worker" else Caller(OWNER)

    def stranger(self, role: str) -> Caller:
        """Someone of `role` who owns none of it: the second worker, another manager, etc."""
        return Caller("worker-2", self.other_worker) if role == "worker" else Caller(f"{role}-2")

    def params(self) -> dict[str, str]:
        return {
            "task_id": self.task,
            "worker_id": self.worker,
            "assignment_id": self.assignment,
            "run_id": self.run,
            "skill_id": SKILL,
            "import_id": str(uuid.uuid4()),
        }


def ndjson(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": json.dumps(body) + "\n",
        "headers": {"Content-Type": "application/x-ndjson"},
    }


# Bodies that pass validation, so that an `own` route reaches the service's object check.
BODIES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("POST", "/v1/tasks"): lambda w: {"json": a_task()},
    ("POST", "/v1/tasks:bulk"): lambda w: ndjson(a_task()),
    ("PATCH", "/v1/tasks/{task_id}"): lambda w: {"json": {"description": "Reviewed."}},
    ("POST", "/v1/jobs:deconstruct"): lambda w: {
        "json": {"title": "Analyst", "task_texts": ["Write Python reports."]}
    },
    ("POST", "/v1/skills"): lambda w: {
        "json": a_skill(id=f"taskforce:m-{uuid.uuid4().hex[:8]}", label="Matrix", alt_labels=[])
    },
    ("POST", "/v1/skills:normalize"): lambda w: {"json": {"texts": ["python"]}},
    ("PATCH", "/v1/skills/{skill_id}"): lambda w: {"json": {"description": "Programming."}},
    ("POST", "/v1/workers"): lambda w: {"json": a_worker()},
    ("POST", "/v1/workers:bulk"): lambda w: ndjson(a_worker()),
    ("PATCH", "/v1/workers/{worker_id}"): lambda w: {"json": {"name": "Ada Lovelace"}},
    ("PUT", "/v1/workers/{worker_id}/skills"): lambda w: {
        "json": {"skills": [{"skill_id": SKILL, "level": 4}]}
    },
    ("POST", "/v1/workers/{worker_id}/skills/{skill_id}:verify"): lambda w: {"json": {"level": 4}},
    ("POST", "/v1/match-runs"): lambda w: {
        "json": {"scope": {"task_ids": [w.task]}, "time_limit_s": 1}
    },
    ("POST", "/v1/assignments"): lambda w: {"json": {"task_id": w.task, "worker_id": w.worker}},
    ("POST", "/v1/assignments/{assignment_id}:complete"): lambda w: {"json": {"skills": []}},
    ("POST", "/oauth/token"): lambda w: {
        "data": {
            "grant_type": "client_credentials",
            "client_id": "matrix-hris",
            "client_secret": w.client_secret,
        }
    },
}
# Routes that end what the others need (the task's lifecycle, the worker's erasure): last.
LAST = [
    ("POST", "/v1/tasks/{task_id}:start"),
    ("POST", "/v1/tasks/{task_id}:complete"),
    ("POST", "/v1/tasks/{task_id}:cancel"),
    ("DELETE", "/v1/workers/{worker_id}"),
]
# `own` routes that name no one's object: a stranger gets their own share, never the owner's.
CALLER_SCOPED = {
    (rule.method, rule.path)
    for rule in RULES
    if (rule.path.startswith("/v1/me") and "{assignment_id}" not in rule.path)
    or (rule.method, rule.path) == ("GET", "/v1/assignments")
}


RULES_BY_KEY = {(rule.method, rule.path): rule for rule in RULES}


def walk_order() -> list[Rule]:
    last = [RULES_BY_KEY[key] for key in LAST]
    return [rule for rule in RULES if rule not in last] + last


def seed(stack: Stack) -> World:
    """A skill, two workers (the first managed by the task's owner), an open task, an offer
    of it to the first worker, their interest in it, and a match run."""
    secret = add_client(stack.var_dir / "oauth-clients.json", "matrix-hris", {"tasks:read"})
    admin = stack.client("gateway", "admin", sub="admin-1")
    owner = stack.client("gateway", "manager", sub=OWNER)
    hris = stack.client("gateway", "service", sub="hris-1")
    assert admin.post("/v1/skills", json=a_skill()).status_code == 201
    stack.wait_for_catalog_skills(SKILL)
    first = hris.post("/v1/workers", json=a_worker(manager_id=OWNER, weekly_hours=16))
    second = hris.post("/v1/workers", json=a_worker(name="Bob", manager_id="manager-2"))
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    task = owner.post("/v1/tasks", json=a_task()).json()
    assert owner.post(f"/v1/tasks/{task['id']}:publish").status_code == 200
    pair = {"task_id": task["id"], "worker_id": first.json()["id"]}
    offer = eventually(
        lambda: (r := owner.post("/v1/assignments", json=pair)).status_code == 201 and r,
        what="matching knows the task and the worker and takes the offer",
    ).json()
    worker_token = stack.token("worker", sub="worker-1", worker_id=first.json()["id"])
    interest = httpx.put(
        f"{stack.url('gateway')}/v1/me/interests/{task['id']}",
        headers={"Authorization": f"Bearer {worker_token}"},
        timeout=10,
    )
    assert interest.status_code == 201, interest.text
    run = owner.post("/v1/match-runs", json={"scope": {"task_ids": [task["id"]]}})
    assert run.status_code == 202, run.text
    return World(
        task=task["id"],
        worker=first.json()["id"],
        other_worker=second.json()["id"],
        assignment=offer["id"],
        run=run.json()["id"],
        client_secret=secret,
    )


class Walker:
    """Sends one cell's request and records every cell that did not answer as it should."""

    def __init__(self, stack: Stack, world: World) -> None:
        self.stack, self.world = stack, world
        self.http = httpx.Client(base_url=stack.url("gateway"), timeout=30)
        self.wrong: list[str] = []
        self.sent = 0

    def send(
        self, rule: Rule, role: str, caller: Caller | None, scopes: frozenset[str] | None = None
    ) -> httpx.Response:
        params = self.world.params()
        path = re.sub(r"\{(\w+)\}", lambda m: params[m[1]], rule.path)
        request = BODIES.get((rule.method, rule.path), lambda w: {})(self.world)
        headers = dict(request.pop("headers", {}))
        if caller is not None:
            token = self.stack.token(
                role, sub=caller.sub, worker_id=caller.worker_id, scopes=scopes
            )
            headers["Authorization"] = f"Bearer {token}"
        self.sent += 1
        return self.http.request(rule.method, path, headers=headers, **request)

    def expect(self, ok: bool, rule: Rule, cell: str, answer: httpx.Response) -> None:
        if not ok:
            self.wrong.append(
                f"{rule.method} {rule.path} [{cell}]: {answer.status_code} {answer.text[:160]}"
            )

    def refused_by_gateway(
        self, rule: Rule, role: str, answer: httpx.Response, scopes: frozenset[str]
    ) -> bool:
        """A 403 problem whose detail is the policy's, so it came from the gateway."""
        expected = refusal(rule.method, answer.request.url.path, frozenset({role}), scopes)
        return (
            answer.status_code == 403
            and answer.headers.get("content-type") == "application/problem+json"
            and 'error="insufficient_scope"' in answer.headers.get("www-authenticate", "")
            and expected is not None
            and answer.json().get("detail") == expected.detail
        )

    def cell(self, rule: Rule, role: str) -> None:
        decision = rule.decisions[role]
        if role == "anonymous":
            answer = self.send(rule, role, None)
            ok = not_refused(answer) if decision == "allow" else answer.status_code == 401
            self.expect(ok, rule, role, answer)
        elif decision == "deny":
            # The most entitled identity there is: the owner, and the worker in the path.
            caller = Caller(OWNER, self.world.worker)
            answer = self.send(rule, role, caller)
            self.expect(self.refused_by_gateway(rule, role, answer, SCOPES), rule, role, answer)
        elif decision == "allow":
            answer = self.send(rule, role, self.world.stranger(role))
            self.expect(not_refused(answer), rule, role, answer)
        else:
            theirs = self.send(rule, role, self.world.stranger(role))
            if (rule.method, rule.path) in CALLER_SCOPED:
                hidden = (
                    self.world.worker not in theirs.text
                    and self.world.assignment not in theirs.text
                )
                ok = theirs.status_code in (403, 404) or (not_refused(theirs) and hidden)
            else:
                ok = theirs.status_code in (403, 404)
            self.expect(ok, rule, f"{role}, someone else's", theirs)
            mine = self.send(rule, role, self.world.owner(role))
            self.expect(not_refused(mine), rule, f"{role}, own", mine)

    def scope_cell(self, rule: Rule) -> None:
        lacking = SCOPES - rule.scopes
        answer = self.send(rule, "service", self.world.owner("service"), scopes=lacking)
        self.expect(
            self.refused_by_gateway(rule, "service", answer, lacking), rule, "scope", answer
        )


def not_refused(answer: httpx.Response) -> bool:
    return answer.status_code not in (401, 403) and answer.status_code < 500


def test_every_cell_of_the_authorization_matrix_holds_through_the_gateway(stack: Stack) -> None:
    for name in ("catalog", "profiles", "matching"):
        stack.start(name)
    stack.start("gateway", **NO_RATE_LIMITS)
    world = seed(stack)
    walker = Walker(stack, world)

    for rule in walk_order():
        if rule.decisions["service"] != "deny" and rule.scopes:
            walker.scope_cell(rule)
        for role in MATRIX_ROLES:
            walker.cell(rule, role)

    assert walker.sent > 5 * len(RULES)
    assert not walker.wrong, "cells that do not hold:\n" + "\n".join(walker.wrong)

    # A token the gateway itself issued to a machine client holds only the scope registered.
    issued = walker.send(RULES_BY_KEY[("POST", "/oauth/token")], "anonymous", None)
    assert issued.status_code == 200, issued.text
    bearer = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert walker.http.get("/v1/tasks", headers=bearer).status_code == 200
    workers = walker.http.get("/v1/workers", headers=bearer)
    assert workers.status_code == 403
    assert 'scope="workers:read"' in workers.headers["www-authenticate"]
