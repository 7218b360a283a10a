"""The GAP benchmark mode: both file formats, a GAP small enough to check by hand solved in
both senses, the CLI's JSON, and OR-Library's gap1 problem 1 when the data set is there
(`../shared/data/gap`, or `TASKFORCE_SHARED_DATA`); skipped when it is not."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from services.matching import gap
from services.matching.bench import main
from services.matching.gap import (
    GapFileInvalid,
    default_sense,
    parse_gap,
    read_gap,
    shortlist,
    solve_gap,
)

GAP_DATA = (
    Path(os.environ["TASKFORCE_SHARED_DATA"]) / "gap"
    if os.environ.get("TASKFORCE_SHARED_DATA")
    else Path(__file__).resolve().parents[3].parent / "shared" / "data" / "gap"
)

# Two agents, three jobs. Agent 0 (capacity 4) fits jobs {0, 2} or one job alone; agent 1
# (capacity 4) fits jobs {0, 1} or {1}. Only two assignments place every job:
# jobs -> agents (0, 1, 0), cost 4 + 6 + 5 = 15, and (1, 1, 0), cost 3 + 6 + 5 = 14.
TINY = """2 3
4 2 5
3 6 1
2 3 2
2 2 3
4 4
"""
# Another problem, to sit first in a two-problem file.
OTHER = "1 2\n7 8\n1 1\n2\n"


def test_a_yagiura_file_holds_one_problem_named_after_the_file(tmp_path):
    path = tmp_path / "e0203.txt"
    path.write_text(TINY)
    (instance,) = read_gap(path)
    assert instance.name == "e0203"
    assert (instance.m, instance.n) == (2, 3)
    assert instance.cost.tolist() == [[4, 2, 5], [3, 6, 1]]
    assert instance.resource.tolist() == [[2, 3, 2], [2, 2, 3]]
    assert instance.capacity.tolist() == [4, 4]


def test_an_or_library_file_starts_with_its_count_of_problems(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(f"2\n{OTHER}{TINY}")
    first, second = read_gap(path)
    assert (first.name, second.name) == ("tiny-1", "tiny-2")
    assert (first.m, first.n, first.capacity.tolist()) == (1, 2, [2])
    assert second.cost.tolist() == [[4, 2, 5], [3, 6, 1]]


def test_line_breaks_carry_no_meaning():
    wrapped = parse_gap(TINY)[0]
    one_line = parse_gap(" ".join(TINY.split()))[0]
    assert np.array_equal(wrapped.cost, one_line.cost)
    assert np.array_equal(wrapped.capacity, one_line.capacity)


def test_a_file_that_is_not_whole_instances_is_refused():
    with pytest.raises(GapFileInvalid):
        parse_gap(TINY + " 5")
    with pytest.raises(GapFileInvalid):
        parse_gap("2 3 4 x")


def test_the_literature_names_and_senses_follow_the_file():
    (orlib,) = parse_gap("1\n" + TINY, "gap12")
    (large,) = parse_gap("1\n" + TINY, "gapd")
    assert (orlib.name, large.name) == ("c23-1", "d023")
    assert (default_sense("gap12"), default_sense("gapd"), default_sense("e10200")) == (
        "max",
        "min",
        "min",
    )


@pytest.mark.parametrize(
    ("sense", "objective", "assignment"), [("max", 15, [0, 1, 0]), ("min", 14, [1, 1, 0])]
)
def test_the_tiny_gap_is_solved_to_its_optimum(sense, objective, assignment):
    result = solve_gap(parse_gap(TINY)[0], sense, time_limit_s=5)
    assert (result.objective, result.bound, result.optimal) == (objective, objective, True)
    assert result.assignment == assignment


@pytest.mark.parametrize(("sense", "optimum"), [("max", 15), ("min", 14)])
def test_a_shortlist_bounds_every_answer_including_those_it_leaves_out(sense, optimum):
    instance = parse_gap(TINY)[0]
    keep, forced, relaxed_bound = shortlist(instance, sense, per_job=1)
    assert keep.sum(axis=0).tolist() == [1, 1, 1]
    # Bounds are on the gain, the cost negated for min: none is below an answer it covers.
    sign = 1 if sense == "max" else -1
    assert relaxed_bound >= sign * optimum - 1e-6
    for agents in ([0, 1, 0], [1, 1, 0]):
        gain = sign * int(instance.cost[agents, range(3)].sum())
        assert all(forced[i, j] >= gain - 1e-6 for j, i in enumerate(agents))


@pytest.mark.parametrize(("sense", "optimum"), [("max", 15), ("min", 14)])
def test_a_shortlisted_solve_still_proves_the_optimum(sense, optimum, monkeypatch):
    monkeypatch.setattr(gap, "SHORTLIST_FROM_AGENTS", 1)
    monkeypatch.setattr(gap, "SHORTLIST_FROM_JOBS", 1)
    monkeypatch.setattr(gap, "SHORTLIST_PER_JOB", 1)
    result = solve_gap(parse_gap(TINY)[0], sense, time_limit_s=5)
    assert (result.objective, result.bound, result.optimal) == (optimum, optimum, True)


def test_the_cli_writes_the_chosen_problem_as_json(tmp_path):
    path, out = tmp_path / "tiny.txt", tmp_path / "result.json"
    path.write_text(f"2\n{OTHER}{TINY}")
    assert main(["gap", str(path), "--problem", "2", "--time-limit", "5", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result) == {"instance", "objective", "bound", "wall_s", "assignment"}
    # tiny is no OR-Library set, so it is minimised.
    assert (result["instance"], result["objective"], result["bound"]) == ("tiny-2", 14, 14)
    assert result["assignment"] == [1, 1, 0]


def test_the_cli_refuses_a_problem_the_file_does_not_hold(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(f"2\n{OTHER}{TINY}")
    with pytest.raises(SystemExit):
        main(["gap", str(path), "--problem", "3"])


@pytest.mark.skipif(not (GAP_DATA / "orlib" / "gap1.txt").exists(), reason="no GAP data")
def test_or_library_gap1_problem_1_reaches_its_published_optimum():
    instance = read_gap(GAP_DATA / "orlib" / "gap1.txt")[0]
    result = solve_gap(instance, "max", time_limit_s=10)
    assert (result.instance, result.objective, result.optimal) == ("c515-1", 336, True)
    agents, jobs = np.array(result.assignment), np.arange(instance.n)
    assert len(agents) == instance.n and ((agents >= 0) & (agents < instance.m)).all()
    load = np.bincount(agents, weights=instance.resource[agents, jobs], minlength=instance.m)
    assert (load <= instance.capacity).all()
    assert int(instance.cost[agents, jobs].sum()) == 336
