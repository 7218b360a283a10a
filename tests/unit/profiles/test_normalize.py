"""Skill normalisation on a small hand-written taxonomy: exact labels, shared labels, typos,
programming-language names, skill groups, garbage and a deterministic order."""

from itertools import pairwise

import pytest

from services.kernel.normalize import (
    MAX_BATCH,
    SkillLabels,
    build_index,
    confident,
    normalize,
    normalize_label,
    normalize_many,
    search,
)

SKILLS = [
    SkillLabels(
        "python",
        "Python (computer programming)",
        ("Python", "Python3", "Pyston"),
        "knowledge",
    ),
    SkillLabels("c", "C", ("C programming language",), "knowledge"),
    SkillLabels("cpp", "C++", ("Visual C++",), "knowledge"),
    SkillLabels("csharp", "C#", ("C Sharp",), "knowledge"),
    SkillLabels("dotnet", ".NET", ("dotnet framework",), "knowledge"),
    SkillLabels("javascript", "JavaScript", ("JS", "ECMAScript"), "knowledge"),
    SkillLabels(
        "project-management",
        "project management",
        ("manage projects", "project managing"),
        "knowledge",
    ),
    SkillLabels(
        "project-commissioning",
        "project commissioning",
        ("project management", "commission projects"),
        "skill/competence",
    ),
    SkillLabels(
        "spreadsheets",
        "use spreadsheets software",
        ("Microsoft Office Excel", "use spreadsheets program"),
        "skill/competence",
    ),
    SkillLabels("lead-others", "lead others", ("manage people", "lead a team"), "skill/competence"),
    # A group and a skill sharing their wording: only the type tells them apart.
    SkillLabels("a-group", "managing staff", ("staff management",), "skill group"),
    SkillLabels("z-skill", "manage staff", ("managing staff",), "skill/competence"),
    SkillLabels(
        "customer-service",
        "customer service",
        ("client service", "customer care"),
        "knowledge",
    ),
    SkillLabels("weld", "join metals", ("welding", "weld metal"), "skill/competence"),
]


@pytest.fixture(scope="module")
def index():
    return build_index(SKILLS)


def ids(matches):
    return [match.skill_id for match in matches]


def test_an_exact_alternative_label_finds_its_skill_with_full_confidence(index):
    [first, *_] = normalize(index, "Microsoft Office Excel")

    assert first.skill_id == "spreadsheets"
    assert first.label == "use spreadsheets software"
    assert first.matched_label == "Microsoft Office Excel"
    assert first.confidence == 1.0
    assert confident(first)


def test_case_spacing_and_punctuation_do_not_stop_an_exact_match(index):
    [first, *_] = normalize(index, "  microsoft   OFFICE excel. ")

    assert (first.skill_id, first.confidence) == ("spreadsheets", 1.0)


def test_a_label_shared_by_two_skills_returns_both_preferred_owner_first(index):
    matches = normalize(index, "project management")

    assert ids(matches)[:2] == ["project-management", "project-commissioning"]
    assert [m.confidence for m in matches[:2]] == [1.0, 1.0]
    assert all(m.confidence < 1.0 for m in matches[2:])


def test_every_owner_of_an_exact_label_is_returned_even_beyond_the_limit(index):
    assert ids(normalize(index, "project management", limit=1)) == [
        "project-management",
        "project-commissioning",
    ]


def test_a_typo_still_finds_the_skill_in_the_first_five_below_full_confidence(index):
    for text, skill in [
        ("Pyhton", "python"),
        ("custmer service", "customer-service"),
        ("Javascrpt", "javascript"),
        ("project managment", "project-management"),
    ]:
        matches = normalize(index, text)
        assert skill in ids(matches), text
        found = next(m for m in matches if m.skill_id == skill)
        assert 0 < found.confidence < 1.0


def test_a_single_typo_in_a_long_label_is_confident_enough_to_accept(index):
    [first, *_] = normalize(index, "use spredsheets software")

    assert first.skill_id == "spreadsheets"
    assert confident(first)
    assert first.confidence < 1.0


def test_programming_language_names_keep_their_symbols():
    assert normalize_label("C++") == "c++"
    assert normalize_label("C#") == "c#"
    assert normalize_label(".NET") == ".net"
    assert normalize_label("ASP.NET") == "asp.net"


def test_c_plus_plus_and_c_sharp_do_not_collapse_into_c(index):
    assert ids(normalize(index, "C++"))[0] == "cpp"
    assert ids(normalize(index, "c#"))[0] == "csharp"
    assert ids(normalize(index, "C"))[0] == "c"
    assert ids(normalize(index, ".net"))[0] == "dotnet"
    for text in ("C++", "C#", ".NET"):
        assert normalize(index, text)[0].confidence == 1.0


def test_quotes_dashes_widths_and_surrounding_punctuation_are_unified():
    assert normalize_label("Children\u2019s  care") == "children's care"
    assert normalize_label("e\u2010learning \u2013 design") == "e-learning design"
    assert normalize_label("\uff30\uff59\uff54\uff48\uff4f\uff4e") == "python"
    assert normalize_label(' "(Python)", ') == "python"
    assert normalize_label("Python (computer programming)") == "python computer programming"


def test_a_skill_group_ranks_below_a_skill_at_an_equal_score(index):
    # Both own "managing staff" (the group as its preferred label), so exact order puts the
    # preferred owner first; with a typo both score the same and the skill comes first.
    matches = normalize(index, "managing staf")

    assert ids(matches)[:2] == ["z-skill", "a-group"]
    assert matches[0].confidence == matches[1].confidence < 1.0


def test_garbage_finds_nothing_confident(index):
    for text in ("xqzvbnm", "asdf qwer", "zzzz", "!!!", ""):
        assert not any(confident(m) for m in normalize(index, text)), text
    assert normalize(index, "xqzvbnm") == []
    assert normalize(index, "   ") == []


def test_stems_and_abbreviations_suggest_but_never_confirm(index):
    [first, *_] = normalize(index, "people management")
    assert first.skill_id == "lead-others"
    assert not confident(first)

    [first, *_] = normalize(index, "MS Excel")
    assert first.skill_id == "spreadsheets"
    assert not confident(first)


def test_results_are_one_per_skill_best_label_first(index):
    matches = normalize(index, "python programming", limit=10)

    assert len(ids(matches)) == len(set(ids(matches)))
    assert matches[0].skill_id == "python"
    assert all(a.confidence >= b.confidence for a, b in pairwise(matches))


def test_the_order_is_the_same_whatever_the_order_of_the_taxonomy(index):
    reversed_index = build_index(reversed(SKILLS))
    for text in ("managing staf", "project management", "C", "pyton", "serv", "manage"):
        assert normalize(index, text, limit=10) == normalize(reversed_index, text, limit=10)
        assert search(index, text, 10) == search(reversed_index, text, 10)


def test_a_batch_keeps_the_order_of_its_texts(index):
    texts = ["welding", "Pyhton", "welding", "xqzvbnm"]

    results = normalize_many(index, texts)

    assert results == [normalize(index, text) for text in texts]


def test_a_batch_larger_than_the_maximum_is_refused(index):
    with pytest.raises(ValueError):
        normalize_many(index, ["welding"] * (MAX_BATCH + 1))


def test_search_puts_exact_labels_then_prefixes_then_fuzzy_matches(index):
    assert ids(search(index, "welding", 5))[0] == "weld"
    assert ids(search(index, "pyth", 5))[0] == "python"
    # "progr" starts a word of three labels, none of which starts with it.
    assert set(ids(search(index, "progr", 5))[:3]) == {"python", "c", "spreadsheets"}
    assert ids(search(index, "project man", 5))[:2] == [
        "project-management",
        "project-commissioning",
    ]
    assert "customer-service" in ids(search(index, "custmer", 5))
    assert search(index, "", 5) == []


def test_search_returns_at_most_limit_results_one_per_skill(index):
    results = search(index, "manage", 3)

    assert len(results) == 3
    assert len(set(ids(results))) == 3
