"""Taxonomy imports through the API: a hand-written release in ESCO's format is imported in
the background, re-importing it changes nothing, and a newer release updates in place."""

import asyncio
import csv
import io
import zipfile
from pathlib import Path

from tests.integration.profiles.conftest import Profiles

SKILL = "http://data.europa.eu/esco/skill/"
GROUP = "http://data.europa.eu/esco/isced-f/"
HEADER = [
    "conceptType",
    "conceptUri",
    "skillType",
    "reuseLevel",
    "preferredLabel",
    "altLabels",
    "hiddenLabels",
    "status",
    "modifiedDate",
    "scopeNote",
    "definition",
    "inScheme",
    "description",
]


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def esco_zips(folder: Path, python_label: str = "Python (computer programming)") -> list[Path]:
    skills = [
        HEADER,
        [
            "KnowledgeSkillCompetence",
            SKILL + "py",
            "knowledge",
            "cross-sector",
            python_label,
            "Python\nPython programming",
            "",
            "released",
            "",
            "",
            "",
            "",
            "A language.",
        ],
        [
            "KnowledgeSkillCompetence",
            SKILL + "sql",
            "knowledge",
            "cross-sector",
            "SQL",
            "structured query language",
            "",
            "released",
            "",
            "",
            "",
            "",
            "Queries.",
        ],
        [
            "KnowledgeSkillCompetence",
            SKILL + "lead",
            "skill/competence",
            "transversal",
            "lead a team",
            "team leadership\nleading teams",
            "",
            "released",
            "",
            "",
            "",
            "",
            "Lead.",
        ],
    ]
    groups = [
        [
            "conceptType",
            "conceptUri",
            "preferredLabel",
            "altLabels",
            "hiddenLabels",
            "status",
            "modifiedDate",
            "scopeNote",
            "inScheme",
            "description",
            "code",
        ],
        [
            "SkillGroup",
            GROUP + "0613",
            "software and applications development",
            "",
            "",
            "released",
            "",
            "",
            "",
            "",
            "0613",
        ],
    ]
    broader = [
        ["conceptType", "conceptUri", "broaderType", "broaderUri"],
        ["KnowledgeSkillCompetence", SKILL + "py", "SkillGroup", GROUP + "0613"],
        ["KnowledgeSkillCompetence", SKILL + "sql", "SkillGroup", GROUP + "0613"],
    ]
    related = [
        [
            "originalSkillUri",
            "originalSkillType",
            "relationType",
            "relatedSkillType",
            "relatedSkillUri",
        ],
        [SKILL + "py", "knowledge", "optional", "knowledge", SKILL + "sql"],
    ]
    english = folder / "ESCO dataset - v1.1.1 - classification - en - csv.zip"
    with zipfile.ZipFile(english, "w") as z:
        z.writestr("skills_en.csv", _csv(skills))
        z.writestr("skillGroups_en.csv", _csv(groups))
    relations = folder / "ESCO dataset - v1.1.1 - classification -  - csv.zip"
    with zipfile.ZipFile(relations, "w") as z:
        z.writestr("broaderRelationsSkillPillar.csv", _csv(broader))
        z.writestr("skillSkillRelations.csv", _csv(related))
    return [english, relations]


async def run_import(profiles: Profiles, paths: list[Path]) -> dict:
    files = [("files", (p.name, p.read_bytes(), "application/zip")) for p in paths]
    started = await profiles.client.post(
        "/v1/skill-imports", data={"source": "esco"}, files=files, headers=profiles.as_("admin")
    )
    assert started.status_code == 202, started.text
    url = started.headers["location"]
    for _ in range(200):
        job = (await profiles.client.get(url, headers=profiles.as_("admin"))).json()
        if job["status"] != "running":
            return job
        await asyncio.sleep(0.05)
    raise AssertionError("the import did not finish")


async def test_an_esco_release_imports_then_reimports_as_a_no_op(
    profiles: Profiles, tmp_path: Path
) -> None:
    job = await run_import(profiles, esco_zips(tmp_path))
    assert job["status"] == "succeeded", job
    assert (job["source_version"], job["total"], job["created"]) == ("1.1.1", 4, 4)
    assert "European Union" in job["attribution"]
    python = (
        await profiles.client.get(f"/v1/skills/{SKILL}py", headers=profiles.as_("worker"))
    ).json()
    assert python["broader"] == [GROUP + "0613"] and python["related"] == [SKILL + "sql"]
    assert "Python programming" in python["alt_labels"]
    assert python["source"] == "esco" and "European Union" in python["attribution"]
    matched = await profiles.client.post(
        "/v1/skills:normalize", headers=profiles.as_("worker"), json={"texts": ["leading teams"]}
    )
    assert matched.json()["results"][0]["matches"][0]["skill_id"] == SKILL + "lead"
    events = len(await profiles.events())

    again = await run_import(profiles, esco_zips(tmp_path))
    assert (again["status"], again["unchanged"], again["created"], again["updated"]) == (
        "succeeded",
        4,
        0,
        0,
    )
    assert len(await profiles.events()) == events

    newer = tmp_path / "newer"
    newer.mkdir()
    updated = await run_import(profiles, esco_zips(newer, python_label="Python"))
    assert (updated["updated"], updated["unchanged"]) == (1, 3)
    python = (
        await profiles.client.get(f"/v1/skills/{SKILL}py", headers=profiles.as_("worker"))
    ).json()
    assert (python["label"], python["version"]) == ("Python", 2)


async def test_a_broken_upload_fails_the_import_with_a_reason(
    profiles: Profiles, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.zip"
    with zipfile.ZipFile(junk, "w") as z:
        z.writestr("readme.txt", "nothing here")
    job = await run_import(profiles, [junk])
    assert job["status"] == "failed" and "skills_en.csv" in job["error"]
    not_admin = await profiles.client.post(
        "/v1/skill-imports",
        data={"source": "esco"},
        files=[("files", ("a.zip", b"x", "application/zip"))],
        headers=profiles.as_("manager"),
    )
    assert not_admin.status_code == 403


async def test_an_import_a_restart_interrupted_is_failed_and_can_run_again(
    profiles: Profiles, tmp_path: Path
) -> None:
    from services.profiles.imports import fail_interrupted_imports, start_import

    db = profiles.app.state.db  # type: ignore[attr-defined]
    async with db.sessions() as session:
        job = await start_import(session, "esco", "admin")
    # What the next start-up finds: a job still `running` whose process died.
    assert await fail_interrupted_imports(db) == 1
    url = f"/v1/skill-imports/{job.id}"
    failed = (await profiles.client.get(url, headers=profiles.as_("admin"))).json()
    assert failed["status"] == "failed" and "run the import again" in failed["error"]
    again = await run_import(profiles, esco_zips(tmp_path))
    assert again["status"] == "succeeded" and again["created"] == 4
