"""The mobile API's pure parts: compact bodies from the services' answers, the one-line why of a
recommendation, strong ETags and `If-None-Match`, who may use `/v1/me`, and how the merged
OpenAPI document declares it."""

import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.openapi.utils import get_openapi

from services.gateway.main import TITLE, VERSION, create_app, merge_openapi
from services.gateway.me import the_worker
from services.gateway.me_compact import (
    compact_assignment,
    compact_profile,
    compact_recommendation,
    json_and_etag,
    listing,
    none_match,
    why,
)
from services.gateway.me_schemas import MeInterest
from services.gateway.settings import GatewaySettings
from services.kernel.auth import CurrentUser
from services.kernel.errors import Forbidden

WORKER_ID = "6a1d0c3e-0a4b-4f51-9d7e-3c1f2b8a9e10"
TASK_ID = "0b7c2a1e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


def a_worker_answer() -> dict[str, Any]:
    """What profiles answers for `GET /v1/workers/{id}`, personal data included."""
    return {
        "id": WORKER_ID,
        "version": 7,
        "external_id": "HR-1",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "org_unit": "Engineering",
        "manager_id": "boss-1",
        "status": "active",
        "weekly_hours": 8,
        "skills": [
            {"skill_id": "taskforce:python", "level": 4, "source": "self", "verified_at": None}
        ],
        "aspirations": [{"skill_id": "taskforce:sql", "target_level": 3}],
        "availability": [{"start_date": "2026-12-01", "end_date": "2026-12-31"}],
        "blackouts": [],
        "preferences": {"task_kinds": [], "interests": []},
    }


def a_ledger_answer() -> dict[str, Any]:
    return {
        "worker_id": WORKER_ID,
        "weekly_hours": 8,
        "weeks": [
            {
                "week": "2026-W49",
                "week_start": "2026-11-30",
                "capacity_hours": 8,
                "committed_hours": 4,
                "remaining_hours": 4,
                "assignments": [
                    {"assignment_id": str(uuid.uuid4()), "task_id": TASK_ID, "hours": 4}
                ],
            }
        ],
    }


def a_recommendation(**overrides: Any) -> dict[str, Any]:
    """One item of matching's `GET /v1/workers/{id}/recommendations`."""
    line = {"min_level": 3, "worker_level": 4, "required": True, "credit": 1.0, "via": None}
    item = {
        "task_id": TASK_ID,
        "title": "Build the quarterly dashboard",
        "hours_per_week": 4,
        "start_date": "2026-12-07",
        "end_date": "2026-12-18",
        "score": 0.81234,
        "components": {"skill_fit": 1.0, "learning": 0.5},
        "matched": [
            {**line, "skill_id": "taskforce:python"},
            {**line, "skill_id": "taskforce:sql"},
        ],
        "gaps": [],
        "learns": ["taskforce:tableau"],
        "learning_seat": False,
        "hours": {"per_week": 4, "min_free_per_week": 6, "weeks": 2},
        "dates": {"start_date": "2026-12-07", "end_date": "2026-12-18", "available_share": 1.0},
        "interested": True,
        "skill_labels": {"taskforce:python": "Python", "taskforce:tableau": "Tableau"},
    }
    return item | overrides


def test_the_profile_keeps_what_the_app_shows_and_drops_personal_and_hr_data() -> None:
    profile = compact_profile(a_worker_answer(), a_ledger_answer()).model_dump(mode="json")
    assert profile["skills"] == [{"skill_id": "taskforce:python", "level": 4}]
    assert profile["aspirations"] == [{"skill_id": "taskforce:sql", "target_level": 3}]
    assert profile["availability"] == [{"start_date": "2026-12-01", "end_date": "2026-12-31"}]
    assert profile["hours"] == [
        {
            "week": "2026-W49",
            "week_start": "2026-11-30",
            "capacity_hours": 8.0,
            "committed_hours": 4.0,
            "remaining_hours": 4.0,
        }
    ]
    for dropped in ("email", "external_id", "manager_id", "org_unit", "preferences"):
        assert dropped not in profile


def test_a_worker_matching_does_not_know_yet_has_no_hours_rather_than_no_profile() -> None:
    assert compact_profile(a_worker_answer(), None).hours is None


def test_a_recommendation_says_why_what_i_would_learn_and_whether_i_asked() -> None:
    item = compact_recommendation(a_recommendation()).model_dump(mode="json")
    assert item["why"] == "Uses your Python and taskforce:sql; 4 of your 6 free hours a week"
    assert item["learns"] == [{"skill_id": "taskforce:tableau", "label": "Tableau"}]
    assert (item["score"], item["interested"], item["hours_per_week"]) == (0.812, True, 4.0)
    assert set(item) == {
        "task_id",
        "title",
        "score",
        "why",
        "learns",
        "learning_seat",
        "hours_per_week",
        "start_date",
        "end_date",
        "interested",
    }


def test_the_why_names_a_stretch_a_stand_in_skill_and_time_away() -> None:
    gaps = [
        {"skill_id": "x:excel", "min_level": 3, "worker_level": 2, "required": True, "via": None},
        {
            "skill_id": "x:bi",
            "min_level": 2,
            "worker_level": None,
            "required": False,
            "via": "x:pbi",
        },
        {"skill_id": "x:r", "min_level": 2, "worker_level": None, "required": False, "via": None},
    ]
    labels = {"x:excel": "Excel", "x:bi": "Tableau", "x:pbi": "Power BI"}
    item = a_recommendation(matched=[], gaps=gaps, dates={"available_share": 0.5})
    assert why(item, labels) == (
        "A stretch in Excel; your Power BI stands in for Tableau; "
        "4 of your 6 free hours a week; you are away for part of it"
    )


def test_long_skill_lists_are_cut_short() -> None:
    assert listing([]) == ""
    assert listing(["A"]) == "A"
    assert listing(["A", "B", "C"]) == "A, B and C"
    assert listing(["A", "B", "C", "D", "E"]) == "A, B, C and 2 more"


def test_an_assignment_gets_its_title_and_loses_the_owners_fields() -> None:
    answer = {
        "id": str(uuid.uuid4()),
        "version": 2,
        "task_id": TASK_ID,
        "worker_id": WORKER_ID,
        "status": "offered",
        "learning_seat": False,
        "hours_per_week": 4,
        "start_date": "2026-12-07",
        "end_date": "2026-12-18",
        "offered_by": "manager-1",
        "match_run_id": None,
        "proposal_id": None,
        "score": 0.8,
        "approval_due_at": None,
        "approved_by": None,
        "endorsed_skills": [],
        "completed_on": None,
        "reason": None,
        "created_at": "2026-11-23T10:00:00Z",
        "updated_at": "2026-11-23T10:00:00Z",
    }
    compact = compact_assignment(answer, "Dashboard").model_dump(mode="json")
    assert (compact["title"], compact["status"], compact["version"]) == ("Dashboard", "offered", 2)
    for dropped in ("worker_id", "offered_by", "score", "match_run_id", "endorsed_skills"):
        assert dropped not in compact


def test_the_etag_is_a_strong_hash_of_the_bytes_sent_and_changes_with_them() -> None:
    body = MeInterest(
        task_id=uuid.UUID(TASK_ID),
        title="A",
        task_status="open",
        task_open=True,
        created_at="2026-11-23T10:00:00Z",  # type: ignore[arg-type]
    )
    raw, etag = json_and_etag(body)
    assert raw == body.model_dump_json().encode()
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert json_and_etag(body) == (raw, etag)
    assert json_and_etag(body.model_copy(update={"task_open": False}))[1] != etag


@pytest.mark.parametrize(
    ("if_none_match", "send_body"),
    [
        (None, True),
        ('"abc"', False),
        ('W/"abc"', False),
        ('"x", "abc"', False),
        ("*", False),
        ('"abcd"', True),
        ('"ab"', True),
        ("abc", True),
        ("", True),
    ],
)
def test_if_none_match_sends_the_body_only_when_the_copy_is_stale(
    if_none_match: str | None, send_body: bool
) -> None:
    assert none_match(if_none_match, '"abc"') is send_body


@pytest.mark.parametrize(
    "user",
    [
        CurrentUser(sub="m", roles=frozenset({"manager"}), worker_id=WORKER_ID),
        CurrentUser(sub="w", roles=frozenset({"worker"})),
        CurrentUser(sub="w", roles=frozenset({"worker"}), worker_id="../workers/x"),
        CurrentUser(sub="s", roles=frozenset({"service", "admin"})),
    ],
    ids=["manager with a worker id", "worker without id", "id not a uuid", "staff"],
)
def test_only_a_workers_token_with_a_worker_id_may_use_me(user: CurrentUser) -> None:
    with pytest.raises(Forbidden):
        the_worker(user)


def test_the_worker_is_the_one_in_the_token() -> None:
    user = CurrentUser(sub="w", roles=frozenset({"worker"}), worker_id=WORKER_ID)
    assert the_worker(user) == uuid.UUID(WORKER_ID)


def test_the_merged_document_puts_me_behind_the_bearer_token(tmp_path: Path) -> None:
    app = create_app(GatewaySettings(auth_local_key_file=tmp_path / "key"))
    document = merge_openapi(get_openapi(title=TITLE, version=VERSION, routes=app.routes), {})
    me_paths = {path for path in document["paths"] if path.startswith("/v1/me")}
    assert me_paths == {
        "/v1/me",
        "/v1/me/ledger",
        "/v1/me/recommendations",
        "/v1/me/interests",
        "/v1/me/interests/{task_id}",
        "/v1/me/assignments",
        "/v1/me/assignments/{assignment_id}:accept",
        "/v1/me/assignments/{assignment_id}:decline",
    }
    for path in me_paths:
        for operation in document["paths"][path].values():
            assert "security" not in operation  # the document's bearerAuth applies
    assert document["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/healthz"]["get"]["security"] == []
    ok = document["paths"]["/v1/me/recommendations"]["get"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("Page_MeRecommendation_")
