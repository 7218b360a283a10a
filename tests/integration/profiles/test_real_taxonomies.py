"""The importers on the real ESCO v1.1.1 and O*NET 29.2 downloads kept next to the repository
(`../shared/data`, or `TASKFORCE_SHARED_DATA`); skipped when they are not there."""

import csv
import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from services.profiles.esco import read_esco
from services.profiles.onet import read_onet
from services.profiles.taxonomy import Release

SHARED_DATA = Path(
    os.environ.get("TASKFORCE_SHARED_DATA")
    or Path(__file__).resolve().parents[3].parent / "shared" / "data"
)
ESCO = SHARED_DATA / "esco"
ONET = SHARED_DATA / "onet"
ESCO_EN_ZIP = ESCO / "ESCO dataset - v1.1.1 - classification - en - csv.zip"
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"


@pytest.fixture(scope="module")
def esco() -> Release:
    if not ESCO_EN_ZIP.is_file():
        pytest.skip(f"ESCO download not found under {ESCO}")
    started = time.perf_counter()
    release = read_esco([ESCO])
    elapsed = time.perf_counter() - started
    print(f"\nESCO {release.version}: {len(release.records)} records in {elapsed:.2f} s")
    # The whole import (parse and store) has one minute; parsing gets a small part of it.
    assert elapsed < 30
    return release


@pytest.fixture(scope="module")
def onet() -> Release:
    if not (ONET / "Content Model Reference.txt").is_file():
        pytest.skip(f"O*NET text release not found under {ONET}")
    started = time.perf_counter()
    release = read_onet(ONET)
    elapsed = time.perf_counter() - started
    print(f"\nO*NET {release.version}: {len(release.records)} records in {elapsed:.2f} s")
    assert elapsed < 30
    return release


def of_type(release: Release, *skill_types: str | None) -> list:
    return [r for r in release.records if r.skill_type in skill_types]


def test_esco_has_every_skill_and_skill_group(esco: Release) -> None:
    assert esco.version == "1.1.1"
    assert len(of_type(esco, "skill/competence", "knowledge", None)) == 13_896
    assert len(of_type(esco, "skill/competence")) == 10_831
    assert len(of_type(esco, "knowledge")) == 3_059
    assert len(of_type(esco, None)) == 6
    assert len(of_type(esco, "skill group")) == 640
    assert "v1.1.1" in esco.attribution


def test_esco_alt_labels_are_the_97483_listed_less_those_repeating_the_preferred_label(
    esco: Release,
) -> None:
    # The README's 97,483 counts every LF-separated altLabels entry; ESCO repeats the preferred
    # label among them for about 12,000 skills, and the importer leaves those out (no other
    # entry is empty or duplicated). Counted here from the file itself.
    with zipfile.ZipFile(ESCO_EN_ZIP) as archive:
        text = archive.read("skills_en.csv").decode()
    listed = repeats = 0
    for row in csv.DictReader(io.StringIO(text, newline="")):
        labels = [label.strip() for label in row["altLabels"].split("\n") if label.strip()]
        listed += len(labels)
        repeats += labels.count(row["preferredLabel"].strip())
    skills = of_type(esco, "skill/competence", "knowledge", None)
    assert listed == 97_483
    assert sum(len(r.alt_labels) for r in skills) == listed - repeats == 85_294
    assert sum(1 for r in skills if r.alt_labels) >= 13_000


def test_esco_python_is_there_by_its_uri(esco: Release) -> None:
    python = next(r for r in esco.records if r.id == PYTHON)
    assert python.label == "Python (computer programming)"
    assert "Python" in python.alt_labels
    assert python.skill_type == "knowledge"
    assert python.attributes["reuse_level"] == "sector-specific"


def test_esco_broader_links_resolve_for_nearly_all_skills(esco: Release) -> None:
    ids = {r.id for r in esco.records}
    skills = of_type(esco, "skill/competence", "knowledge", None)
    assert sum(1 for r in skills if r.broader) >= 13_800
    assert all(link in ids for r in esco.records for link in r.broader)
    # Four top groups (skills, knowledge, language, transversal) have nothing above them.
    roots = [r for r in of_type(esco, "skill group") if not r.broader]
    assert len(roots) == 4


def test_esco_related_links_are_nearly_all_5899(esco: Release) -> None:
    related = sum(len(r.related) for r in esco.records)
    # One of the 5,899 rows relates a skill to itself and is dropped (reported).
    assert 5_850 <= related <= 5_899
    types = [t for r in esco.records for t in r.attributes.get("related_types", {}).values()]
    assert len(types) == related
    assert set(types) == {"essential", "optional"}


def test_esco_problems_are_a_few_aggregated_warnings(esco: Release) -> None:
    print("\n".join(esco.warnings))
    assert len(esco.warnings) <= 10


def test_onet_has_its_35_skills_and_33_knowledge_areas(onet: Release) -> None:
    assert onet.version == "29.2"
    assert len(of_type(onet, "onet skill")) == 35
    assert len(of_type(onet, "onet knowledge")) == 33
    programming = next(r for r in onet.records if r.id == "onet:element:2.B.3.e")
    assert programming.label == "Programming"
    assert programming.broader == ("onet:element:2.B.3",)
    ids = {r.id for r in onet.records}
    assert all(link in ids for r in onet.records for link in r.broader)
    assert "O*NET 29.2 Database" in onet.attribution


def test_onet_has_8768_technology_products_in_135_commodities(onet: Release) -> None:
    products = of_type(onet, "technology")
    assert len(products) == 8_768
    assert len({r.id for r in products}) == 8_768
    assert len(of_type(onet, "technology category")) == 135
    excel = next(r for r in products if r.label == "Microsoft Excel")
    assert excel.attributes["hot_technology"] is True
    assert excel.attributes["occupation_count"] > 500
    assert sum(1 for r in products if r.attributes["hot_technology"]) > 100
