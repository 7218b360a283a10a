"""Worker profiles against a real database: every endpoint, every permission rule, and bad
input answered with 4xx problem+json that changes nothing."""

import json

from tests.builders import a_worker
from tests.integration.profiles.conftest import Profiles


async def test_free_text_skills_are_normalised_on_the_way_in(profiles: Profiles) -> None:
    worker = await profiles.worker(
        skills=[
            {"skill": "python programming", "level": 4},
            {"skill": "MS Excel", "level": 2},
            {"skill_id": "taskforce:sql", "level": 3},
        ],
        aspirations=[{"skill": "team leadership", "target_level": 3}],
    )
    assert {(s["skill_id"], s["level"], s["source"]) for s in worker["skills"]} == {
        ("taskforce:python", 4, "imported"),
        ("taskforce:excel", 2, "imported"),
        ("taskforce:sql", 3, "imported"),
    }
    assert worker["aspirations"] == [{"skill_id": "taskforce:leadership", "target_level": 3}]


async def test_unknown_skills_are_refused_with_suggestions_and_nothing_is_written(
    profiles: Profiles,
) -> None:
    before = await profiles.events()
    response = await profiles.client.post(
        "/v1/workers",
        headers=profiles.as_("service"),
        json=a_worker(
            skills=[
                {"skill": "python scripting", "level": 3},
                {"skill_id": "taskforce:telepathy", "level": 3},
            ]
        ),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [["body", "skills", "0"], ["body", "skills", "1"]]
    assert errors[0]["suggestions"][0]["skill_id"] == "taskforce:python"
    assert await profiles.count("worker") == 0
    assert await profiles.events() == before


async def test_bad_levels_duplicates_and_oversized_bodies_are_4xx_and_change_nothing(
    profiles: Profiles,
) -> None:
    staff = profiles.as_("service")
    for level in (0, 6):
        bad = await profiles.client.post(
            "/v1/workers",
            headers=staff,
            json=a_worker(skills=[{"skill_id": "taskforce:python", "level": level}]),
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "level"
    await profiles.worker(external_id="HR-1")
    duplicate = await profiles.client.post(
        "/v1/workers", headers=staff, json=a_worker(external_id="HR-1")
    )
    assert duplicate.status_code == 409
    huge = await profiles.client.post(
        "/v1/workers", headers=staff, json=a_worker(name="x" * 2_000_000)
    )
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"
    assert await profiles.count("worker") == 1


async def test_updates_honour_if_match_and_a_stale_version_changes_nothing(
    profiles: Profiles,
) -> None:
    worker = await profiles.worker()
    url, staff = f"/v1/workers/{worker['id']}", profiles.as_("admin")
    read = await profiles.client.get(url, headers=staff)
    assert read.headers["etag"] == '"1"'
    updated = await profiles.client.patch(
        url, headers=staff | {"If-Match": '"1"'}, json={"weekly_hours": 12}
    )
    assert updated.status_code == 200 and updated.headers["etag"] == '"2"'
    stale = await profiles.client.patch(
        url, headers=staff | {"If-Match": '"1"'}, json={"weekly_hours": 2}
    )
    assert stale.status_code == 412
    assert (await profiles.client.get(url, headers=staff)).json()["weekly_hours"] == 12
    stale_skills = await profiles.client.put(
        f"{url}/skills", headers=staff | {"If-Match": '"1"'}, json={"skills": []}
    )
    assert stale_skills.status_code == 412
    nulled = await profiles.client.patch(url, headers=staff, json={"name": None})
    assert nulled.status_code == 422


async def test_a_worker_edits_their_own_preferences_but_not_hr_fields(profiles: Profiles) -> None:
    ada = await profiles.worker()
    me = profiles.as_("worker", worker_id=ada["id"])
    url = f"/v1/workers/{ada['id']}"
    mine = await profiles.client.patch(
        url,
        headers=me,
        json={
            "weekly_hours": 6,
            "remote_preference": "remote",
            "availability": [{"start_date": "2027-01-01", "end_date": "2027-06-30"}],
            "preferences": {"task_kinds": ["gig"], "interests": ["data"]},
        },
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["remote_preference"] == "remote"
    for field, value in (
        ("org_unit", "Finance"),
        ("external_id", "HR-X"),
        ("email", "new@example.com"),
        ("manager_id", "boss"),
    ):
        refused = await profiles.client.patch(url, headers=me, json={field: value})
        assert refused.status_code == 403, field
    assert (await profiles.client.get(url, headers=me)).json()["org_unit"] == "Engineering"


async def test_workers_see_only_themselves_and_a_line_manager_cannot_edit(
    profiles: Profiles,
) -> None:
    ada = await profiles.worker(manager_id="w-boss")
    bob = await profiles.worker(name="Bob")
    as_ada = profiles.as_("worker", worker_id=ada["id"])
    assert (
        await profiles.client.get(f"/v1/workers/{bob['id']}", headers=as_ada)
    ).status_code == 403
    assert (
        await profiles.client.patch(
            f"/v1/workers/{bob['id']}", headers=as_ada, json={"weekly_hours": 1}
        )
    ).status_code == 403
    assert (await profiles.client.get("/v1/workers", headers=as_ada)).status_code == 403
    boss = profiles.as_("manager", worker_id="w-boss")
    assert (
        await profiles.client.patch(
            f"/v1/workers/{ada['id']}", headers=boss, json={"weekly_hours": 1}
        )
    ).status_code == 403
    assert (
        await profiles.client.put(
            f"/v1/workers/{ada['id']}/skills", headers=boss, json={"skills": []}
        )
    ).status_code == 403


async def test_email_is_shown_to_the_worker_their_line_manager_and_admins_only(
    profiles: Profiles,
) -> None:
    ada = await profiles.worker(email="ada@example.com", manager_id="w-boss")
    url = f"/v1/workers/{ada['id']}"
    seen = {}
    for who, headers in {
        "self": profiles.as_("worker", worker_id=ada["id"]),
        "line manager": profiles.as_("manager", worker_id="w-boss"),
        "admin": profiles.as_("admin"),
        "other manager": profiles.as_("manager", worker_id="w-other"),
        "hris": profiles.as_("service"),
    }.items():
        seen[who] = (await profiles.client.get(url, headers=headers)).json()["email"]
    assert seen == {
        "self": "ada@example.com",
        "line manager": "ada@example.com",
        "admin": "ada@example.com",
        "other manager": None,
        "hris": None,
    }
    listed = await profiles.client.get("/v1/workers", headers=profiles.as_("manager"))
    assert [w["email"] for w in listed.json()["items"]] == [None]
    events = await profiles.events()
    assert all("email" not in payload for _, _, payload in events)


async def test_own_claims_are_self_and_the_line_manager_verifies_them(profiles: Profiles) -> None:
    ada = await profiles.worker(
        manager_id="w-boss",
        skills=[{"skill_id": "taskforce:python", "level": 3, "source": "assessment"}],
    )
    me = profiles.as_("worker", worker_id=ada["id"])
    url = f"/v1/workers/{ada['id']}/skills"
    claimed = await profiles.client.put(
        url,
        headers=me,
        json={
            "skills": [
                {"skill_id": "taskforce:python", "level": 3},
                {"skill_id": "taskforce:sql", "level": 4, "source": "assessment"},
            ]
        },
    )
    sources = {s["skill_id"]: s["source"] for s in claimed.json()["skills"]}
    # Re-stating an assessed skill keeps its provenance; a new claim is the worker's own.
    assert sources == {"taskforce:python": "assessment", "taskforce:sql": "self"}

    verify = f"/v1/workers/{ada['id']}/skills/taskforce:sql:verify"
    other = await profiles.client.post(
        verify, json={}, headers=profiles.as_("manager", worker_id="w-other")
    )
    assert other.status_code == 403
    assert (await profiles.client.post(verify, json={}, headers=me)).status_code == 403
    done = await profiles.client.post(
        verify, json={"level": 3}, headers=profiles.as_("manager", worker_id="w-boss")
    )
    assert done.status_code == 200
    sql = next(s for s in done.json()["skills"] if s["skill_id"] == "taskforce:sql")
    assert (sql["source"], sql["level"]) == ("manager", 3) and sql["verified_at"]
    missing = await profiles.client.post(
        f"/v1/workers/{ada['id']}/skills/taskforce:excel:verify",
        json={},
        headers=profiles.as_("admin"),
    )
    assert missing.status_code == 404


async def test_deactivation_is_for_hr_and_is_announced(profiles: Profiles) -> None:
    ada = await profiles.worker()
    url = f"/v1/workers/{ada['id']}"
    me = profiles.as_("worker", worker_id=ada["id"])
    assert (await profiles.client.post(f"{url}:deactivate", headers=me)).status_code == 403
    off = await profiles.client.post(f"{url}:deactivate", headers=profiles.as_("service"))
    assert off.json()["status"] == "inactive"
    on = await profiles.client.post(f"{url}:activate", headers=profiles.as_("admin"))
    assert on.json()["status"] == "active"
    statuses = [p["status"] for kind, key, p in await profiles.events() if key == ada["id"]]
    assert statuses == ["active", "inactive", "active"]


async def test_erasure_forgets_the_person_everywhere_it_can(profiles: Profiles) -> None:
    ada = await profiles.worker(email="ada@example.com", name="Ada Lovelace")
    bob = await profiles.worker(name="Bob")
    url = f"/v1/workers/{ada['id']}"
    assert (
        await profiles.client.delete(url, headers=profiles.as_("worker", worker_id=bob["id"]))
    ).status_code == 403
    assert (
        await profiles.client.delete(url, headers=profiles.as_("worker", worker_id=ada["id"]))
    ).status_code == 204
    assert (await profiles.client.get(url, headers=profiles.as_("admin"))).status_code == 404
    assert (await profiles.client.delete(url, headers=profiles.as_("admin"))).status_code == 404
    about_ada = [
        (kind, payload) for kind, key, payload in await profiles.events() if key == ada["id"]
    ]
    assert about_ada == [("erased", {"id": ada["id"], "version": 2})]
    async with profiles.app.state.db.sessions() as session:  # type: ignore[attr-defined]
        import sqlalchemy as sa

        row = (
            await session.execute(
                sa.text("SELECT name, email, external_id, status FROM worker WHERE name != 'Bob'")
            )
        ).one()
    assert tuple(row) == ("", None, None, "erased")
    assert "Ada" not in json.dumps([p for _, _, p in await profiles.events()])
    listed = await profiles.client.get("/v1/workers", headers=profiles.as_("admin"))
    assert [w["name"] for w in listed.json()["items"]] == ["Bob"]


async def test_listing_filters_by_skill_level_unit_arrangement_and_availability(
    profiles: Profiles,
) -> None:
    expert = await profiles.worker(
        name="Expert", skills=[{"skill_id": "taskforce:python", "level": 5}]
    )
    await profiles.worker(name="Novice", skills=[{"skill_id": "taskforce:python", "level": 1}])
    await profiles.worker(
        name="Nurse",
        org_unit="Clinical",
        work_arrangement="contractor",
        skills=[{"skill_id": "taskforce:nursing", "level": 4}],
        blackouts=[{"start_date": "2027-03-01", "end_date": "2027-03-31"}],
    )
    await profiles.worker(
        name="Summer",
        skills=[],
        availability=[{"start_date": "2027-06-01", "end_date": "2027-08-31"}],
    )
    staff = profiles.as_("manager")

    async def names(**params: object) -> list[str]:
        response = await profiles.client.get("/v1/workers", params=params, headers=staff)
        assert response.status_code == 200, response.text
        return sorted(w["name"] for w in response.json()["items"])

    assert await names(skill="taskforce:python", min_level=4) == ["Expert"]
    assert await names(skill="taskforce:python") == ["Expert", "Novice"]
    assert await names(org_unit="Clinical") == ["Nurse"]
    assert await names(work_arrangement="contractor") == ["Nurse"]
    assert await names(available_on="2027-03-15") == ["Expert", "Novice"]
    assert await names(available_on="2027-07-01") == ["Expert", "Novice", "Nurse", "Summer"]
    assert expert["name"] == "Expert"
    bad = await profiles.client.get("/v1/workers", params={"min_level": 6}, headers=staff)
    assert bad.status_code == 422


async def test_bulk_upsert_reports_every_line_and_applies_the_good_ones(profiles: Profiles) -> None:
    lines = [
        json.dumps(a_worker(external_id="HR-1", name="One")),
        "{not json",
        json.dumps(
            a_worker(
                external_id="HR-2",
                name="Two",
                skills=[{"skill_id": "taskforce:python", "level": 6}],
            )
        ),
        json.dumps(
            a_worker(
                external_id="HR-3",
                name="Three",
                skills=[{"skill": "structured query language", "level": 2}],
            )
        ),
        json.dumps(a_worker(external_id=None, name="No key")),
    ]
    body = "\n".join(lines).encode()
    hris = profiles.as_("service", sub="hris") | {"Content-Type": "application/x-ndjson"}
    first = await profiles.client.post("/v1/workers:bulk", content=body, headers=hris)
    assert first.status_code == 200, first.text
    result = first.json()
    assert [r["status"] for r in result["results"]] == [
        "created",
        "error",
        "error",
        "created",
        "error",
    ]
    assert (result["created"], result["failed"]) == (2, 3)
    assert await profiles.count("worker") == 2

    lines[0] = json.dumps(a_worker(external_id="HR-1", name="One", weekly_hours=20))
    again = await profiles.client.post(
        "/v1/workers:bulk", content="\n".join(lines).encode(), headers=hris
    )
    assert [r["status"] for r in again.json()["results"]] == [
        "updated",
        "error",
        "error",
        "unchanged",
        "error",
    ]
    assert await profiles.count("worker") == 2
    as_manager = profiles.as_("manager") | {"Content-Type": "application/x-ndjson"}
    assert (
        await profiles.client.post("/v1/workers:bulk", content=body, headers=as_manager)
    ).status_code == 403
