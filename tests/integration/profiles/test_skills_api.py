"""The taxonomy API against a real database: create, edit with If-Match, read with narrower
skills, ranked search, normalisation and idempotent creates."""

from tests.integration.profiles.conftest import Profiles


async def test_skills_are_read_with_their_narrower_skills_and_edited_with_if_match(
    profiles: Profiles,
) -> None:
    admin = profiles.as_("admin")
    parent = await profiles.client.get("/v1/skills/taskforce:programming", headers=admin)
    assert parent.json()["narrower"] == ["taskforce:python", "taskforce:sql"]
    url = "/v1/skills/taskforce:python"
    edited = await profiles.client.patch(
        url, headers=admin | {"If-Match": '"1"'}, json={"alt_labels": ["Python 3", "py"]}
    )
    assert edited.status_code == 200 and edited.headers["etag"] == '"2"'
    stale = await profiles.client.patch(
        url, headers=admin | {"If-Match": '"1"'}, json={"label": "Snake"}
    )
    assert stale.status_code == 412
    assert (await profiles.client.get(url, headers=admin)).json()["label"] == "Python"
    worker = profiles.as_("worker", worker_id="w-1")
    assert (
        await profiles.client.patch(url, headers=worker, json={"label": "x"})
    ).status_code == 403
    unknown_parent = await profiles.client.patch(
        url, headers=admin, json={"broader": ["taskforce:nothing"]}
    )
    assert unknown_parent.status_code == 422
    kinds = [kind for kind, key, _ in await profiles.events() if key == "taskforce:python"]
    assert kinds == ["upserted", "upserted"]


async def test_nulling_a_skills_label_lists_or_description_is_refused_and_changes_nothing(
    profiles: Profiles,
) -> None:
    # Found by schemathesis through the gateway: a null label or description broke the
    # table's NOT NULL (500), a null broader or related list broke the existence check (500).
    admin = profiles.as_("admin")
    url = "/v1/skills/taskforce:python"
    before = (await profiles.client.get(url, headers=admin)).json()
    for field in ("label", "alt_labels", "description", "broader", "related"):
        nulled = await profiles.client.patch(url, headers=admin, json={field: None})
        assert nulled.status_code == 422, (field, nulled.text)
        assert nulled.headers["content-type"] == "application/problem+json"
    assert (await profiles.client.get(url, headers=admin)).json() == before
    cleared = await profiles.client.patch(url, headers=admin, json={"skill_type": None})
    assert cleared.status_code == 200 and cleared.json()["skill_type"] is None


async def test_normalize_returns_canonical_skills_best_first(profiles: Profiles) -> None:
    response = await profiles.client.post(
        "/v1/skills:normalize",
        headers=profiles.as_("worker"),
        json={
            "texts": [
                "Python programming",
                "MS Excel",
                "team leadership",
                "pythn",
                "underwater basket weaving",
            ]
        },
    )
    assert response.status_code == 200
    results = response.json()["results"]
    firsts = [r["matches"][0] if r["matches"] else None for r in results]
    assert [m["skill_id"] for m in firsts[:3]] == [
        "taskforce:python",
        "taskforce:excel",
        "taskforce:leadership",
    ]
    assert firsts[0]["matched_label"] == "Python programming"
    assert firsts[0]["confidence"] == 1.0
    assert firsts[3]["skill_id"] == "taskforce:python" and firsts[3]["confidence"] < 1.0
    assert all(m["confidence"] < 0.9 for m in results[4]["matches"])
    too_many = await profiles.client.post(
        "/v1/skills:normalize", headers=profiles.as_("worker"), json={"texts": ["x"] * 1001}
    )
    assert too_many.status_code == 422


async def test_search_ranks_labels_and_sees_new_skills_at_once(profiles: Profiles) -> None:
    admin = profiles.as_("admin")
    found = await profiles.client.get("/v1/skills", params={"q": "python"}, headers=admin)
    assert found.json()["items"][0]["id"] == "taskforce:python"
    await profiles.client.post(
        "/v1/skills",
        headers=admin,
        json={"id": "taskforce:pytorch", "label": "PyTorch", "alt_labels": ["torch"]},
    )
    again = await profiles.client.get("/v1/skills", params={"q": "pytorch"}, headers=admin)
    assert again.json()["items"][0]["id"] == "taskforce:pytorch"
    plain = await profiles.client.get("/v1/skills", params={"limit": 2}, headers=admin)
    assert len(plain.json()["items"]) == 2 and plain.json()["next_cursor"]


async def test_creating_skills_is_for_admins_and_refuses_bad_ids(profiles: Profiles) -> None:
    manager = profiles.as_("manager")
    assert (
        await profiles.client.post("/v1/skills", headers=manager, json={"label": "Go"})
    ).status_code == 403
    bad = await profiles.client.post(
        "/v1/skills", headers=profiles.as_("admin"), json={"id": "not a uri", "label": "Go"}
    )
    assert bad.status_code == 422
    generated = await profiles.client.post(
        "/v1/skills", headers=profiles.as_("admin"), json={"label": "Go (programming language)"}
    )
    assert generated.json()["id"] == "taskforce:go-programming-language"
