"""The O*NET parser and the job deconstruction mapping, on a small hand-written release."""

from pathlib import Path

import pytest

from services.catalog.deconstruct import (
    HOT_TECHNOLOGY,
    TASK_LINKS,
    TEXT_MATCH,
    deconstruct_described,
    deconstruct_occupation,
    level_of,
    occupation_facts,
    phrase_normalizer,
    title_of,
)
from services.catalog.onet import read_job_release
from services.kernel.normalize import SkillLabels, build_index
from services.kernel.taxonomy_ids import product_ids
from tests.onet_release import DATA_SCIENTISTS, write_onet_release, zip_onet_release


@pytest.fixture
def release(tmp_path: Path):  # type: ignore[no-untyped-def]
    return read_job_release(write_onet_release(tmp_path / "release"))


def by_task(drafts):  # type: ignore[no-untyped-def]
    return {d.source_task_id: d for d in drafts}


def skills(draft, required: bool = True) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {r.skill_id: r.min_level for r in draft.requirements if r.required is required}


def test_the_release_is_read_from_a_folder_or_a_zip_with_n_a_as_missing(
    tmp_path: Path, release
) -> None:
    zipped = read_job_release(zip_onet_release(write_onet_release(tmp_path / "z")))
    assert zipped.tasks == release.tasks and zipped.ratings == release.ratings
    assert release.version == "29.2" and "O*NET 29.2 Database" in release.attribution
    assert "modified" in release.attribution
    assert [o.code for o in release.occupations] == [DATA_SCIENTISTS, "11-1011.00"]
    types = {t.task_id: t.task_type for t in release.tasks}
    assert types[100] == "Core" and types[102] == "Supplemental" and types[103] is None
    assert {t.task_id: t.text for t in release.tasks}[103] == 'Clean "messy" data sets.'
    assert release.warnings == [
        "files absent (their links are left out): 1 (e.g. Content Model Reference.txt)"
    ]


def test_suppressed_ratings_count_as_unrated(release) -> None:
    ratings = {(r.occupation_code, r.element_id): r for r in release.ratings}
    programming = ratings[DATA_SCIENTISTS, "2.B.3.e"]
    assert (programming.importance, programming.level) == (4.25, 5.5)
    social = ratings[DATA_SCIENTISTS, "2.B.1.a"]
    assert (social.importance, social.level) == (None, None)


def test_technology_ids_are_the_kernel_ids_over_every_product_of_the_release(release) -> None:
    ids, _ = product_ids(t.product for t in release.technologies)
    assert all(t.product_id == ids[t.product] for t in release.technologies)
    by_name = {t.product: t for t in release.technologies}
    assert by_name["C"].product_id == "onet:technology:c"
    assert by_name["C++"].product_id.startswith("onet:technology:c-")
    assert by_name["Python"].listed_by == 2 and by_name["R"].listed_by == 1


@pytest.mark.parametrize(
    ("onet_level", "level"),
    [(0.0, 1), (0.2, 1), (0.88, 2), (3.5, 3), (5.5, 4), (6.13, 5), (7.0, 5), (None, 3)],
)
def test_onet_levels_map_onto_one_to_five(onet_level: float | None, level: int) -> None:
    assert level_of(onet_level) == level


def test_one_draft_per_core_task_and_untyped_ones_supplemental_left_out(release) -> None:
    drafts = deconstruct_occupation(occupation_facts(release, DATA_SCIENTISTS))
    assert [d.source_task_id for d in drafts] == [100, 101, 103, 104]
    with_supplemental = deconstruct_occupation(
        occupation_facts(release, DATA_SCIENTISTS), include_supplemental=True
    )
    assert [d.source_task_id for d in with_supplemental] == [100, 101, 102, 103, 104]


def test_skills_come_through_dwas_and_gwas_when_rated_important(release) -> None:
    drafts = by_task(deconstruct_occupation(occupation_facts(release, DATA_SCIENTISTS)))
    # Programming LV 5.5 → 4; Mathematics IM exactly 3 is kept, LV 3.5 → 3.
    assert skills(drafts[100]) == {"onet:element:2.B.3.e": 4, "onet:element:2.A.1.e": 3}
    # Writing IM 3.75 is kept (LV 0.2 → 1); Speaking IM 2.88 is not.
    assert skills(drafts[101]) == {
        "onet:element:2.B.3.e": 4,
        "onet:element:2.A.1.e": 3,
        "onet:element:2.A.1.c": 1,
    }
    programming = drafts[100].requirements[0]
    assert programming.skill_id == "onet:element:2.B.3.e"  # the most important first
    assert programming.weight == 4.25 and programming.source == TASK_LINKS
    assert [(p.dwa, p.gwa) for p in programming.paths] == [
        ("Analyze business or financial data.", "Analyzing Data or Information")
    ]
    assert programming.provenance()["importance"] == 4.25
    assert programming.provenance()["onet_level"] == 5.5


def test_a_task_without_an_important_skill_still_comes_out_flagged(release) -> None:
    drafts = by_task(deconstruct_occupation(occupation_facts(release, DATA_SCIENTISTS)))
    # Its only link leads to Social Perceptiveness, whose rating O*NET suppresses.
    assert skills(drafts[104]) == {} and drafts[104].has_no_skill
    assert not drafts[100].has_no_skill


def test_hot_technologies_in_demand_or_most_listed_are_nice_to_haves(release) -> None:
    drafts = deconstruct_occupation(occupation_facts(release, DATA_SCIENTISTS))
    ids, _ = product_ids(t.product for t in release.technologies)
    # In demand first (Python, R), then the most listed (Excel), then by name.
    expected = ["Python", "R", "Microsoft Excel", "SAS", "Structured query language SQL"]
    for draft in drafts:
        nice = [r for r in draft.requirements if not r.required]
        assert [r.label for r in nice] == expected  # Tableau is the sixth; C++ is not hot
        assert [r.skill_id for r in nice] == [ids[name] for name in expected]
        assert {r.source for r in nice} == {HOT_TECHNOLOGY}


def test_long_statements_are_cut_at_a_word_for_the_title() -> None:
    text = "Analyze " + "data " * 60
    title = title_of(text)
    assert len(title) <= 200 and title.endswith("data…")
    assert title_of("Short.") == "Short."


def test_a_described_job_takes_the_normalisers_matches_with_their_confidence() -> None:
    def normalizer(texts: list[str]) -> list[list[tuple[str, str, float]]]:
        table = {
            "Build dashboards": [("s:bi", "business intelligence", 0.92), ("s:viz", "charts", 0.6)],
            "Sing": [],
        }
        return [table[text] for text in texts]

    drafts = deconstruct_described("Analyst", ["Build dashboards", " ", "Sing"], normalizer)
    assert [d.title for d in drafts] == ["Build dashboards", "Sing"]
    first = drafts[0].requirements
    assert [(r.skill_id, r.required, r.confidence, r.source) for r in first] == [
        ("s:bi", True, 0.92, TEXT_MATCH),
        ("s:viz", False, 0.6, TEXT_MATCH),
    ]
    assert drafts[1].has_no_skill


def test_an_unrated_occupation_borrows_the_ratings_of_its_most_related_rated_one(
    release,
) -> None:
    sources = {o.code: o.ratings_from for o in release.occupations}
    # Chief Executives are not rated here; 11-2021.00 is more related but not rated either.
    assert sources == {DATA_SCIENTISTS: DATA_SCIENTISTS, "11-1011.00": DATA_SCIENTISTS}
    (draft,) = deconstruct_occupation(occupation_facts(release, "11-1011.00"))
    assert skills(draft) == {"onet:element:2.B.3.e": 4, "onet:element:2.A.1.e": 3}
    assert {r.rated_by for r in draft.requirements if r.required} == {DATA_SCIENTISTS}


def test_skills_are_read_out_of_text_by_label_and_alternative_label() -> None:
    index = build_index(
        [
            SkillLabels("s:sql", "SQL", ("structured query language",), None),
            SkillLabels("s:c", "C", (), None),
            SkillLabels("s:cpp", "C++", (), None),
            SkillLabels("s:excel", "Microsoft Excel", ("MS Excel",), None),
            SkillLabels("s:r", "R", (), None),
            SkillLabels("s:lead", "lead a team", ("team leadership",), None),
        ]
    )
    normalize = phrase_normalizer(index)
    (matches, alternative, typo, none) = normalize(
        [
            "Query data with SQL in C++ or C, then R and Microsoft Excel",
            "Build reports in MS Excel and show team leadership",
            "Write structured query langauge reports",
            "x",
        ]
    )
    assert sorted(skill_id for skill_id, _, _ in matches) == ["s:cpp", "s:excel", "s:sql"]
    assert sorted(skill_id for skill_id, _, _ in alternative) == ["s:excel", "s:lead"]
    assert [(skill_id, confidence < 1) for skill_id, _, confidence in typo] == [("s:sql", True)]
    assert none == []
