"""The mobile gig app's API through the real gateway, with real services and the real broker:
a worker sees their profile, hours and ranked work, shows and withdraws interest (which the
task's owner sees on the shortlist), accepts and declines offers, revalidates with ETags, and
cannot reach another worker's data by any route."""

from typing import Any

import httpx
import pytest

from tests.builders import a_skill, a_task, a_worker
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e

OWNER = "manager-1"


def as_worker(stack: Stack, sub: str, worker_id: str) -> httpx.Client:
    token = stack.token("worker", sub=sub, worker_id=worker_id)
    return httpx.Client(
        base_url=stack.url("gateway"), timeout=10, headers={"Authorization": f"Bearer {token}"}
    )


def published(owner: httpx.Client, **fields: Any) -> dict[str, Any]:
    task = owner.post("/v1/tasks", json=a_task(**fields))
    assert task.status_code == 201, task.text
    assert owner.post(f"/v1/tasks/{task.json()['id']}:publish").status_code == 200
    return task.json()


def offered(owner: httpx.Client, task: dict[str, Any], worker: dict[str, Any]) -> dict[str, Any]:
    pair = {"task_id": task["id"], "worker_id": worker["id"]}
    return eventually(
        lambda: (r := owner.post("/v1/assignments", json=pair)).status_code == 201 and r,
        what="matching accepts the offer",
    ).json()


def test_a_worker_uses_the_mobile_api_for_their_own_data_only(stack: Stack) -> None:
    for name in ("catalog", "profiles", "matching", "gateway"):
        stack.start(name)
    admin = stack.client("gateway", "admin")
    owner = stack.client("gateway", "manager", sub=OWNER)
    hris = stack.client("gateway", "service")

    assert admin.post("/v1/skills", json=a_skill()).status_code == 201
    sql = a_skill(id="taskforce:sql", label="SQL", alt_labels=[])
    assert admin.post("/v1/skills", json=sql).status_code == 201
    stack.wait_for_catalog_skills("taskforce:python", "taskforce:sql")
    ada = hris.post(
        "/v1/workers",
        json=a_worker(
            weekly_hours=16, aspirations=[{"skill_id": "taskforce:sql", "target_level": 3}]
        ),
    ).json()
    bob = hris.post("/v1/workers", json=a_worker(name="Bob", email="bob@example.com")).json()
    # The dashboard teaches SQL, which Ada wants to learn: it ranks above the report.
    dashboard = published(owner, title="Dashboard", learning_skills=["taskforce:sql"])
    report = published(owner, title="Report")
    me = as_worker(stack, "ada", ada["id"])
    other = as_worker(stack, "bob", bob["id"])

    # My profile, with the hours of the coming weeks once matching knows me.
    profile = eventually(
        lambda: (r := me.get("/v1/me")).status_code == 200 and r.json()["hours"] and r,
        what="matching knows Ada",
    )
    body = profile.json()
    assert (body["id"], body["name"], body["weekly_hours"]) == (ada["id"], "Ada Lovelace", 16)
    assert body["skills"] == [{"skill_id": "taskforce:python", "level": 4}]
    assert len(body["hours"]) == 4 and body["hours"][0]["capacity_hours"] == 16
    assert "email" not in body
    assert profile.headers["cache-control"] == "private, no-cache"
    # Revalidation: the same representation is a bodiless 304.
    again = me.get("/v1/me", headers={"If-None-Match": profile.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    # Open work ranked for me, with why, what I would learn, hours and dates.
    def ranked() -> list[dict[str, Any]] | None:
        items = me.get("/v1/me/recommendations").json()["items"]
        learns = items[0]["learns"] if items else []
        labelled = learns and learns[0]["label"] == "SQL"
        return items if len(items) == 2 and labelled else None

    items = eventually(ranked, what="both tasks recommended, with skill labels")
    assert [i["title"] for i in items] == ["Dashboard", "Report"]
    assert items[0]["score"] >= items[1]["score"]
    first = items[0]
    assert first["why"].startswith("Uses your Python")
    assert first["learns"] == [{"skill_id": "taskforce:sql", "label": "SQL"}]
    assert (first["hours_per_week"], first["start_date"]) == (4, dashboard["start_date"])
    assert first["interested"] is False

    # Interest: shown once, seen by the owner on the shortlist, withdrawn.
    assert me.put(f"/v1/me/interests/{dashboard['id']}").status_code == 201
    assert me.put(f"/v1/me/interests/{dashboard['id']}").status_code == 200
    mine = me.get("/v1/me/interests")
    assert [(i["task_id"], i["task_open"]) for i in mine.json()["items"]] == [
        (dashboard["id"], True)
    ]
    tag = mine.headers["etag"]
    assert me.get("/v1/me/interests", headers={"If-None-Match": tag}).status_code == 304

    def interest_flags() -> dict[str, bool]:
        shortlist = owner.get(f"/v1/tasks/{dashboard['id']}/candidates").json()["items"]
        return {c["worker_id"]: c["interested"] for c in shortlist}

    assert interest_flags() == {ada["id"]: True, bob["id"]: False}
    who = owner.get(f"/v1/tasks/{dashboard['id']}/interests").json()["items"]
    assert [i["worker_id"] for i in who] == [ada["id"]]
    assert me.get("/v1/me/recommendations").json()["items"][0]["interested"] is True

    assert me.delete(f"/v1/me/interests/{dashboard['id']}").status_code == 204
    changed = me.get("/v1/me/interests", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.json()["items"] == []
    assert interest_flags()[ada["id"]] is False

    # An offer, seen in my assignments with its title, accepted through the mobile API.
    offer = offered(owner, dashboard, ada)
    listed = me.get("/v1/me/assignments", params={"status": "offered"}).json()["items"]
    assert [(a["id"], a["title"], a["version"]) for a in listed] == [(offer["id"], "Dashboard", 1)]
    # Bob cannot accept Ada's offer, through either door.
    for door in ("/v1/me/assignments", "/v1/assignments"):
        refused = other.post(f"{door}/{offer['id']}:accept")
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    accepted = me.post(f"/v1/me/assignments/{offer['id']}:accept", headers={"If-Match": '"1"'})
    assert accepted.status_code == 200, accepted.text
    # Four hours a week are under the automatic threshold: approved at once.
    assert (accepted.json()["status"], accepted.json()["title"]) == ("approved", "Dashboard")
    ledger = me.get("/v1/me/ledger", params={"from_date": dashboard["start_date"]}).json()
    assert ledger["weeks"][0]["committed_hours"] == 4
    assert ledger["weeks"][0]["assignments"][0]["assignment_id"] == offer["id"]

    second = offered(owner, report, ada)
    declined = me.post(
        f"/v1/me/assignments/{second['id']}:decline", json={"reason": "too busy this month"}
    )
    assert declined.status_code == 200 and declined.json()["status"] == "declined"

    # Bob sees only his own data, whatever he names in a path or a query.
    assert other.get("/v1/me", params={"worker_id": ada["id"]}).json()["id"] == bob["id"]
    assert other.get("/v1/me/assignments", params={"worker_id": ada["id"]}).json()["items"] == []
    ada_paths = [
        ("GET", f"/v1/workers/{ada['id']}"),
        ("GET", f"/v1/workers/{ada['id']}/ledger"),
        ("GET", f"/v1/workers/{ada['id']}/recommendations"),
        ("GET", f"/v1/workers/{ada['id']}/interests"),
        ("PUT", f"/v1/workers/{ada['id']}/interests/{report['id']}"),
        ("DELETE", f"/v1/workers/{ada['id']}/interests/{report['id']}"),
        ("GET", f"/v1/assignments/{offer['id']}"),
        ("POST", f"/v1/assignments/{offer['id']}:withdraw"),
        ("POST", f"/v1/me/assignments/{second['id']}:decline"),
    ]
    for method, path in ada_paths:
        answer = other.request(method, path)
        assert answer.status_code in (403, 404), (method, path, answer.status_code)
    visible = other.get("/v1/assignments", params={"worker_id": ada["id"]}).json()["items"]
    assert visible == []
    # Ada's interests and assignments are as she left them.
    assert me.get("/v1/me/interests").json()["items"] == []
    statuses = {a["id"]: a["status"] for a in me.get("/v1/me/assignments").json()["items"]}
    assert statuses == {offer["id"]: "approved", second["id"]: "declined"}

    # A token that is not a worker's has no `/v1/me`.
    refused = owner.get("/v1/me")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
