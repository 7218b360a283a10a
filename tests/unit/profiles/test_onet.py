"""The O*NET importer on a tiny hand-written text release: tab-separated CRLF files, `n/a`,
a `"` inside a text, a product hot in one listing and not in another."""

import zipfile
from pathlib import Path

import pytest

from services.profiles.onet import read_onet
from services.profiles.taxonomy import Release, SkillRecord

CONTENT_MODEL = [
    ("Element ID", "Element Name", "Description"),
    ("1", "Worker Characteristics", "Worker Characteristics"),
    ("1.A", "Abilities", "Enduring attributes of the individual"),
    ("2", "Worker Requirements", "Descriptors acquired through experience and education."),
    ("2.A", "Basic Skills", "Developed capacities that facilitate learning"),
    ("2.A.1", "Content", "Background structures"),
    ("2.A.1.a", "Reading Comprehension", "Understanding written sentences."),
    ("2.A.1.b", "Active Listening", 'Giving full attention to what people say ("listening").'),
    ("2.B", "Cross-Functional Skills", "Developed capacities that facilitate performance"),
    ("2.B.3", "Technical Skills", "Capacities used to design and operate machines"),
    ("2.B.3.e", "Programming", "Writing computer programs for various purposes."),
    ("2.B.3.f", "Retired Skill", "n/a"),
    ("2.C", "Knowledge", "Organized sets of principles and facts"),
    ("2.C.3", "Engineering and Technology", "Engineering"),
    ("2.C.3.a", "Computers and Electronics", "Knowledge of circuit boards and computers."),
    ("2.C.6", "Education and Training", "Knowledge of teaching."),
    ("4.A", "Generalized Work Activities", "General types of job behaviors"),
]
RATINGS_HEADER = (
    "O*NET-SOC Code",
    "Element ID",
    "Element Name",
    "Scale ID",
    "Data Value",
    "N",
    "Standard Error",
    "Lower CI Bound",
    "Upper CI Bound",
    "Recommend Suppress",
    "Not Relevant",
    "Date",
    "Domain Source",
)


def rating(element: str, name: str, scale: str) -> tuple[str, ...]:
    return ("15-1252.00", element, name, scale, "3.25", "n/a", "n/a", "n/a", "n/a", "N", "n/a",
            "08/2023", "Analyst")  # fmt: skip


SKILLS = [
    RATINGS_HEADER,
    *(
        rating(element, name, scale)
        for element, name in [
            ("2.A.1.a", "Reading Comprehension"),
            ("2.A.1.b", "Active Listening"),
            ("2.B.3.e", "Programming"),
        ]
        for scale in ("IM", "LV")
    ),
]
KNOWLEDGE = [
    RATINGS_HEADER,
    rating("2.C.3.a", "Computers and Electronics", "IM"),
    rating("2.C.6", "Education and Training", "IM"),
]
TECHNOLOGY = [
    ("O*NET-SOC Code", "Example", "Commodity Code", "Commodity Title", "Hot Technology",
     "In Demand"),
    ("15-1252.00", "Microsoft Excel", "43232110", "Spreadsheet software", "Y", "N"),
    ("43-9061.00", "Microsoft Excel", "43232110", "Spreadsheet software", "N", "Y"),
    ("43-9061.00", "Microsoft Excel", "43232110", "Spreadsheet software", "N", "N"),
    ("15-1252.00", "C", "43232402", "Program testing software", "Y", "Y"),
    ("15-1252.00", "C#", "43232402", "Program testing software", "N", "N"),
    ("15-1252.00", "C++", "43232402", "Program testing software", "N", "N"),
    ("15-1252.00", "Atlassian JIRA", "43232201", "Workflow software", "N", "N"),
    ("15-1299.08", "Atlassian JIRA", "43231507", "Project management software", "N", "N"),
    ("11-3021.00", "Atlassian JIRA", "43231507", "Project management software", "N", "N"),
    ("13-2011.00", 'The "Best" Tax 5.0', "43231507", "Project management software", "n/a",
     "n/a"),
    ("15-1252.00", "Broken row"),
]  # fmt: skip
READ_ME = "O*NET 29.2 Database\r\nFebruary 2025 Release\r\n---------------------\r\n"


def tsv(rows: list[tuple[str, ...]]) -> str:
    return "".join("\t".join(row) + "\r\n" for row in rows)


def release_files(**replaced: str | None) -> dict[str, str]:
    files: dict[str, str | None] = {
        "Content Model Reference.txt": tsv(CONTENT_MODEL),
        "Skills.txt": tsv(SKILLS),
        "Knowledge.txt": tsv(KNOWLEDGE),
        "Technology Skills.txt": tsv(TECHNOLOGY),
        "Read Me.txt": READ_ME,
        "Occupation Data.txt": "O*NET-SOC Code\tTitle\tDescription\r\n",
    } | replaced
    return {name: text for name, text in files.items() if text is not None}


def write_folder(folder: Path, **replaced: str | None) -> Path:
    folder.mkdir(parents=True)
    for name, text in release_files(**replaced).items():
        (folder / name).write_bytes(text.encode())
    return folder


@pytest.fixture
def release(tmp_path: Path) -> Release:
    return read_onet(write_folder(tmp_path / "onet"))


def record(release: Release, record_id: str) -> SkillRecord:
    return next(r for r in release.records if r.id == record_id)


def by_label(release: Release, label: str) -> SkillRecord:
    return next(r for r in release.records if r.label == label)


def ids_of(release: Release, skill_type: str) -> list[str]:
    return [r.id for r in release.records if r.skill_type == skill_type]


def warning_about(release: Release, words: str) -> str:
    matches = [w for w in release.warnings if words in w]
    assert len(matches) == 1, release.warnings
    return matches[0]


def test_rated_leaf_skills_and_knowledge_areas_become_records(release: Release) -> None:
    assert ids_of(release, "onet skill") == [
        "onet:element:2.A.1.a",
        "onet:element:2.A.1.b",
        "onet:element:2.B.3.e",
    ]
    assert ids_of(release, "onet knowledge") == ["onet:element:2.C.3.a", "onet:element:2.C.6"]
    programming = record(release, "onet:element:2.B.3.e")
    assert programming.label == "Programming"
    assert programming.description == "Writing computer programs for various purposes."
    assert programming.attributes == {"element_id": "2.B.3.e"}
    assert (programming.source, programming.source_version) == ("onet", "29.2")


def test_a_content_model_leaf_not_rated_in_skills_txt_is_left_out_and_reported(
    release: Release,
) -> None:
    assert "onet:element:2.B.3.f" not in {r.id for r in release.records}
    assert "2.B.3.f" in warning_about(release, "not rated in Skills.txt")


def test_parent_categories_group_the_elements_up_to_their_branch(release: Release) -> None:
    assert ids_of(release, "onet category") == [
        "onet:element:2.A",
        "onet:element:2.A.1",
        "onet:element:2.B",
        "onet:element:2.B.3",
        "onet:element:2.C",
        "onet:element:2.C.3",
    ]
    assert record(release, "onet:element:2.A.1.a").broader == ("onet:element:2.A.1",)
    assert record(release, "onet:element:2.A.1").broader == ("onet:element:2.A",)
    assert record(release, "onet:element:2.A").broader == ()
    assert record(release, "onet:element:2.C.6").broader == ("onet:element:2.C",)
    assert record(release, "onet:element:2.B.3").label == "Technical Skills"


def test_a_double_quote_inside_a_text_is_kept_as_written(release: Release) -> None:
    listening = record(release, "onet:element:2.A.1.b")
    assert listening.description == 'Giving full attention to what people say ("listening").'
    assert by_label(release, 'The "Best" Tax 5.0').id == "onet:technology:the-best-tax-5-0"


def test_without_the_ratings_files_the_content_model_ranges_decide(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "onet", **{"Skills.txt": None, "Knowledge.txt": None})
    release = read_onet(folder)
    assert "onet:element:2.B.3.f" in ids_of(release, "onet skill")
    assert len(ids_of(release, "onet skill")) == 4
    assert len(ids_of(release, "onet knowledge")) == 2
    # `n/a` is a missing value, not a description.
    assert record(release, "onet:element:2.B.3.f").description == ""
    assert warning_about(release, "Skills.txt absent")


def test_each_distinct_product_is_one_record_under_its_commodity(release: Release) -> None:
    assert sorted(r.label for r in release.records if r.skill_type == "technology") == [
        "Atlassian JIRA",
        "C",
        "C#",
        "C++",
        "Microsoft Excel",
        'The "Best" Tax 5.0',
    ]
    excel = record(release, "onet:technology:microsoft-excel")
    assert excel.broader == ("onet:commodity:43232110",)
    assert excel.attributes["commodity_code"] == "43232110"
    assert excel.attributes["occupation_count"] == 2
    commodity = record(release, "onet:commodity:43232110")
    assert (commodity.label, commodity.skill_type) == (
        "Spreadsheet software",
        "technology category",
    )
    assert len(ids_of(release, "technology category")) == 4


def test_a_product_is_hot_and_in_demand_if_any_listing_says_so(release: Release) -> None:
    excel = by_label(release, "Microsoft Excel").attributes
    assert (excel["hot_technology"], excel["in_demand"]) == (True, True)
    jira = by_label(release, "Atlassian JIRA").attributes
    assert (jira["hot_technology"], jira["in_demand"]) == (False, False)
    tax = by_label(release, 'The "Best" Tax 5.0').attributes
    assert (tax["hot_technology"], tax["in_demand"]) == (False, False)


def test_a_product_under_two_commodities_belongs_to_both_the_most_listed_first(
    release: Release,
) -> None:
    jira = by_label(release, "Atlassian JIRA")
    assert jira.broader == ("onet:commodity:43231507", "onet:commodity:43232201")
    assert jira.attributes["commodity_code"] == "43231507"
    assert jira.attributes["occupation_count"] == 3


def test_colliding_slugs_get_stable_distinct_ids_and_a_warning(
    release: Release, tmp_path: Path
) -> None:
    c, c_sharp, c_plus_plus = (by_label(release, name).id for name in ("C", "C#", "C++"))
    assert c == "onet:technology:c"
    assert c_sharp.startswith("onet:technology:c-") and c_plus_plus.startswith("onet:technology:c-")
    assert len({c, c_sharp, c_plus_plus}) == 3
    assert ": 2 (" in warning_about(release, "slug collides")
    # An id does not depend on which other colliding products a release lists.
    without_cpp = [row for row in TECHNOLOGY if row[1] != "C++"]
    other = read_onet(
        write_folder(tmp_path / "other", **{"Technology Skills.txt": tsv(without_cpp)})
    )
    assert by_label(other, "C#").id == c_sharp


def test_malformed_rows_are_skipped_and_reported(release: Release) -> None:
    assert "Broken row" not in {r.label for r in release.records}
    assert "has 2" in warning_about(release, "6 fields expected, skipped, in Technology Skills")


def test_version_comes_from_the_read_me_and_names_the_attribution(release: Release) -> None:
    assert release.version == "29.2"
    assert release.attribution == (
        "This product includes information from the O*NET 29.2 Database by the U.S. Department "
        "of Labor, Employment and Training Administration (USDOL/ETA). Used under the CC BY 4.0 "
        "license. O*NET® is a trademark of USDOL/ETA. Taskforce has modified all or some of this "
        "information. USDOL/ETA has not approved, endorsed, or tested these modifications."
    )


def test_without_a_read_me_the_version_comes_from_the_folder_name(tmp_path: Path) -> None:
    release = read_onet(write_folder(tmp_path / "db_28_1_text", **{"Read Me.txt": None}))
    assert release.version == "28.1"
    assert {r.source_version for r in release.records} == {"28.1"}
    assert "db_28_1_text" in warning_about(release, "taken from the folder name")


def test_the_official_zip_with_one_top_level_folder_reads_like_the_folder(
    release: Release, tmp_path: Path
) -> None:
    path = tmp_path / "db_29_2_text.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in release_files().items():
            archive.writestr(f"db_29_2_text/{name}", text)
    from_zip = read_onet(path)
    assert from_zip.records == release.records
    assert from_zip.version == "29.2"


def test_a_folder_without_the_content_model_is_refused(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "onet", **{"Content Model Reference.txt": None})
    with pytest.raises(ValueError, match="Content Model Reference"):
        read_onet(folder)
