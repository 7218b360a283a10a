"""Skill normalisation against the product's accuracy contract on the real ESCO v1.1.1 skills
(`../shared/data/esco`, or `TASKFORCE_SHARED_DATA`); skipped when the download is not there."""

import os
import time
from pathlib import Path

import pytest

from benchmarks.normalize import (
    TARGET_HIT1,
    TARGET_HIT5,
    TARGET_TYPO_HIT5,
    Query,
    esco_available,
    evaluate,
    load_esco,
    sample_queries,
    typo_queries,
)
from services.kernel.normalize import LabelIndex, SkillLabels, build_index

ESCO = (
    Path(os.environ["TASKFORCE_SHARED_DATA"]) / "esco"
    if os.environ.get("TASKFORCE_SHARED_DATA")
    else Path(__file__).resolve().parents[3].parent / "shared" / "data" / "esco"
)


@pytest.fixture(scope="module")
def skills() -> list[SkillLabels]:
    if not esco_available(ESCO):
        pytest.skip(f"ESCO download not found under {ESCO}")
    return load_esco(ESCO)


@pytest.fixture(scope="module")
def index(skills: list[SkillLabels]) -> LabelIndex:
    started = time.perf_counter()
    index = build_index(skills)
    elapsed = time.perf_counter() - started
    print(f"\nindex of {len(index)} skills, {len(index.keys)} labels in {elapsed:.2f} s")
    # A few seconds is the design; this bound only catches a pathological regression.
    assert elapsed < 20
    return index


@pytest.fixture(scope="module")
def queries(skills: list[SkillLabels]) -> list[Query]:
    return sample_queries(skills)


def test_the_sample_is_2000_alternative_labels_of_skills(
    skills: list[SkillLabels], queries: list[Query]
):
    alternative = {label for s in skills if s.skill_type != "skill group" for label in s.alt_labels}
    assert len(queries) == 2000
    assert all(q.text in alternative and q.owners for q in queries)


def test_alternative_labels_find_their_skill(index: LabelIndex, queries: list[Query]):
    score = evaluate(index, queries)
    print(
        f"\nalt labels: hit@1 {score.hit1:.2%}, hit@5 {score.hit5:.2%}, "
        f"{score.seconds_per_1000:.2f} s per 1,000"
    )

    assert score.hit1 >= TARGET_HIT1, score.misses[:10]
    assert score.hit5 >= TARGET_HIT5, score.misses[:10]
    assert score.seconds_per_1000 < 20


def test_alternative_labels_with_one_typo_find_their_skill(index: LabelIndex, queries: list[Query]):
    typos = typo_queries(queries)
    score = evaluate(index, typos)
    print(
        f"\none typo ({len(typos)} labels): hit@1 {score.hit1:.2%}, hit@5 {score.hit5:.2%}, "
        f"{score.seconds_per_1000:.2f} s per 1,000"
    )

    assert len(typos) > 1900
    assert score.hit5 >= TARGET_TYPO_HIT5, score.misses[:10]
    assert score.seconds_per_1000 < 20
