"""The ESCO importer on tiny hand-written zips in the official layout, quirks included:
CRLF records, LF-separated labels in quoted fields, ragged hierarchy rows, dangling links."""

import zipfile
from pathlib import Path

import pytest

from services.profiles.esco import read_esco
from services.profiles.taxonomy import Release, SkillRecord

S = "http://data.europa.eu/esco/skill/"
PYTHON, SQL, TEAMWORK = S + "python", S + "sql", S + "teamwork"
ROOT, COMPUTERS = S + "group-skills", S + "group-computers"
EN_ZIP = "ESCO dataset - v1.1.1 - classification - en - csv.zip"
RELATIONS_ZIP = "ESCO dataset - v1.1.1 - classification -  - csv.zip"
RELEASE_DATE = (2022, 9, 13, 17, 5, 32)

SKILLS_CSV = (
    "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,hiddenLabels,"
    "status,modifiedDate,scopeNote,definition,inScheme,description\r\n"
    # altLabels spans lines, repeats the preferred label and "Python", has a blank line.
    f"KnowledgeSkillCompetence,{PYTHON},knowledge,sector-specific,"
    'Python (computer programming),"Python3\nPython\n Python \n\nPython (computer programming)",'
    '"Py hidden",released,2022-07-05T14:34:21Z,,,'
    '"http://data.europa.eu/esco/concept-scheme/skills,\n'
    'http://data.europa.eu/esco/concept-scheme/member-skills",'
    '"Software development, in Python."\r\n'
    f"KnowledgeSkillCompetence,{SQL},knowledge,cross-sector,SQL,"
    '"Structured Query Language",,released,2016-12-20T17:43:43Z,,,'
    'http://data.europa.eu/esco/concept-scheme/skills,"Query languages."\r\n'
    f"KnowledgeSkillCompetence,{TEAMWORK},,transversal,work in teams,cooperate,,released,"
    ',,"Definition only.",http://data.europa.eu/esco/concept-scheme/skills,\r\n'
    # A truncated record: too few fields.
    f"KnowledgeSkillCompetence,{S}broken,skill/competence\r\n"
)
GROUPS_CSV = (
    "conceptType,conceptUri,preferredLabel,altLabels,hiddenLabels,status,modifiedDate,"
    "scopeNote,inScheme,description,code\r\n"
    f"SkillGroup,{ROOT},skills,,,released,,,"
    'http://data.europa.eu/esco/concept-scheme/skills-hierarchy,"All skills.",S\r\n'
    f'SkillGroup,{COMPUTERS},working with computers,"using computers\nIT",,released,,,'
    'http://data.europa.eu/esco/concept-scheme/skills-hierarchy,"Computers, software.",S5\r\n'
)
HIERARCHY_CSV = (
    "Level 0 URI,Level 0 preferred term,Level 1 URI,Level 1 preferred term,Level 2 URI,"
    "Level 2 preferred term,Level 3 URI,Level 3 preferred term,Description,Scope note,"
    "Level 0 code,Level 1 code,Level 2 code,Level 3 code\r\n"
    # Ragged: trailing empty fields are left out, as in the official file.
    f"{ROOT},skills,,,,,,,,,S\r\n"
    f'{ROOT},skills,{COMPUTERS},working with computers,,,,,"Computers, software.",,S,S5\r\n'
    f"{ROOT},skills,{COMPUTERS},working with computers,{S}ghost,ghost group,,,,,S,S5,S5.1\r\n"
)
BROADER_CSV = (
    "conceptType,conceptUri,broaderType,broaderUri\r\n"
    f"SkillGroup,{COMPUTERS},SkillGroup,{ROOT}\r\n"
    f"KnowledgeSkillCompetence,{PYTHON},SkillGroup,{COMPUTERS}\r\n"
    f"KnowledgeSkillCompetence,{SQL},SkillGroup,{COMPUTERS}\r\n"
    f"KnowledgeSkillCompetence,{TEAMWORK},SkillGroup,{ROOT}\r\n"
    + "".join(f"KnowledgeSkillCompetence,{PYTHON},SkillGroup,{S}ghost-{n}\r\n" for n in range(6))
)
RELATED_CSV = (
    "originalSkillUri,originalSkillType,relationType,relatedSkillType,relatedSkillUri\r\n"
    f"{PYTHON},knowledge,essential,knowledge,{SQL}\r\n"
    f"{TEAMWORK},,optional,knowledge,{PYTHON}\r\n"
    f"{PYTHON},knowledge,optional,knowledge,{S}ghost-related\r\n"
)


def write_zip(path: Path, members: dict[str, str], date_time=RELEASE_DATE) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time), text.encode())
    return path


def classification_zip(folder: Path, name: str = EN_ZIP, **replaced: str) -> Path:
    members = {
        "skills_en.csv": SKILLS_CSV,
        "skillGroups_en.csv": GROUPS_CSV,
        "skillsHierarchy_en.csv": HIERARCHY_CSV,
        "occupations_en.csv": "conceptType,conceptUri,preferredLabel\r\n",
    }
    return write_zip(folder / name, members | replaced)


def relations_zip(folder: Path, name: str = RELATIONS_ZIP) -> Path:
    members = {
        "broaderRelationsSkillPillar.csv": BROADER_CSV,
        "skillSkillRelations.csv": RELATED_CSV,
    }
    return write_zip(folder / name, members)


@pytest.fixture
def release(tmp_path: Path) -> Release:
    return read_esco([classification_zip(tmp_path), relations_zip(tmp_path)])


def record(release: Release, uri: str) -> SkillRecord:
    return next(r for r in release.records if r.id == uri)


def warning_about(release: Release, words: str) -> str:
    matches = [w for w in release.warnings if words in w]
    assert len(matches) == 1, release.warnings
    return matches[0]


def test_every_skill_and_skill_group_becomes_a_record(release: Release) -> None:
    assert release.source == "esco"
    assert sorted(r.id for r in release.records) == sorted([PYTHON, SQL, TEAMWORK, ROOT, COMPUTERS])
    python = record(release, PYTHON)
    assert (python.label, python.skill_type, python.source, python.source_version) == (
        "Python (computer programming)",
        "knowledge",
        "esco",
        "1.1.1",
    )
    assert record(release, COMPUTERS).skill_type == "skill group"


def test_alt_labels_split_on_line_feeds_without_the_preferred_label_duplicates_or_hidden_labels(
    release: Release,
) -> None:
    assert record(release, PYTHON).alt_labels == ("Python3", "Python")
    assert record(release, SQL).alt_labels == ("Structured Query Language",)
    assert record(release, COMPUTERS).alt_labels == ("using computers", "IT")


def test_a_skill_with_an_empty_skill_type_is_kept_untyped_and_reported(release: Release) -> None:
    assert record(release, TEAMWORK).skill_type is None
    assert TEAMWORK in warning_about(release, "empty skillType")


def test_the_description_falls_back_to_the_definition(release: Release) -> None:
    assert record(release, PYTHON).description == "Software development, in Python."
    assert record(release, TEAMWORK).description == "Definition only."


def test_attributes_keep_reuse_level_concept_type_status_and_group_code(release: Release) -> None:
    attributes = record(release, SQL).attributes
    assert attributes["reuse_level"] == "cross-sector"
    assert attributes["concept_type"] == "KnowledgeSkillCompetence"
    assert attributes["status"] == "released"
    assert record(release, COMPUTERS).attributes["code"] == "S5"


def test_broader_links_come_from_the_relations_zip(release: Release) -> None:
    assert record(release, PYTHON).broader == (COMPUTERS,)
    assert record(release, TEAMWORK).broader == (ROOT,)
    assert record(release, COMPUTERS).broader == (ROOT,)
    assert record(release, ROOT).broader == ()


def test_related_links_keep_their_direction_and_relation_type(release: Release) -> None:
    python, sql, teamwork = (record(release, uri) for uri in (PYTHON, SQL, TEAMWORK))
    assert python.related == (SQL,)
    assert python.attributes["related_types"] == {SQL: "essential"}
    assert teamwork.related == (PYTHON,)
    assert teamwork.attributes["related_types"] == {PYTHON: "optional"}
    assert sql.related == ()


def test_links_to_unknown_concepts_are_dropped_with_one_warning_per_kind(
    release: Release,
) -> None:
    broader = warning_about(release, "broader links to or from concepts not in this release")
    assert ": 6 (" in broader
    assert broader.count("ghost-") == 5  # at most five examples
    related = warning_about(release, "related links")
    assert ": 1 (" in related and "ghost-related" in related
    assert all("ghost" not in link for r in release.records for link in r.broader + r.related)


def test_without_the_relations_zip_group_links_come_from_the_ragged_hierarchy(
    tmp_path: Path,
) -> None:
    release = read_esco([classification_zip(tmp_path)])
    assert record(release, COMPUTERS).broader == (ROOT,)
    assert record(release, PYTHON).broader == ()
    assert record(release, PYTHON).related == ()
    assert "skills have no broader links" in warning_about(release, "relations zip absent")
    assert "ghost" in warning_about(release, "not in this release")


def test_malformed_rows_are_skipped_and_reported(release: Release) -> None:
    assert S + "broken" not in {r.id for r in release.records}
    assert "has 3" in warning_about(release, "13 fields expected, skipped, in skills_en.csv")


def test_line_feed_records_read_like_crlf_records(tmp_path: Path, release: Release) -> None:
    lf = tmp_path / "lf"
    lf.mkdir()
    crlf_free = read_esco(
        [
            classification_zip(
                lf,
                **{
                    "skills_en.csv": SKILLS_CSV.replace("\r\n", "\n"),
                    "skillGroups_en.csv": GROUPS_CSV.replace("\r\n", "\n"),
                },
            ),
            relations_zip(lf),
        ]
    )
    assert crlf_free.records == release.records


def test_a_folder_is_searched_for_the_zips_by_their_members(tmp_path: Path) -> None:
    classification_zip(tmp_path, name="b.zip")
    relations_zip(tmp_path, name="a.zip")
    write_zip(tmp_path / "unrelated.zip", {"notes.txt": "nothing to see"})
    (tmp_path / "README.md").write_text("not a zip")
    release = read_esco([tmp_path])
    assert record(release, PYTHON).broader == (COMPUTERS,)
    assert record(release, PYTHON).related == (SQL,)
    # No version in the names: the member dates of the official v1.1.1 release tell it.
    assert release.version == "1.1.1"


def test_an_unknown_release_date_becomes_the_version_with_a_warning(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "esco.zip", {"skills_en.csv": SKILLS_CSV}, (2031, 1, 2, 0, 0, 0))
    release = read_esco([path])
    assert release.version == "2031-01-02"
    assert "2031-01-02" in warning_about(release, "version neither in the file name")


def test_version_and_attribution_come_from_the_file_name(tmp_path: Path) -> None:
    path = classification_zip(tmp_path, name="ESCO dataset - v1.2.0 - classification - en.zip")
    release = read_esco([path])
    assert release.version == "1.2.0"
    assert {r.source_version for r in release.records} == {"1.2.0"}
    assert release.attribution == (
        "Contains data from ESCO v1.2.0 (European Skills, Competences, Qualifications and "
        "Occupations), © European Union, https://esco.ec.europa.eu. Taskforce has modified "
        "the presentation of this data."
    )


def test_a_zip_without_skills_en_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"skills_en\.csv"):
        read_esco([relations_zip(tmp_path)])


def test_a_skills_file_without_its_key_columns_is_refused(tmp_path: Path) -> None:
    path = classification_zip(tmp_path, **{"skills_en.csv": "uri,label\r\nx,y\r\n"})
    with pytest.raises(ValueError, match="no readable skills"):
        read_esco([path])


def test_a_missing_path_or_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        read_esco([tmp_path / "nowhere.zip"])
    (tmp_path / "skills_en.csv").write_text(SKILLS_CSV)
    with pytest.raises(ValueError, match="not a zip"):
        read_esco([tmp_path / "skills_en.csv"])
