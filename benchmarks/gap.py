"""GAP benchmark: the matching solver core on the OR-Library and Yagiura GAP instances, against
the published optimal and best-known values and beside plain CP-SAT given the same time. Prints
the per-instance table and returns the summary per set. Skips where ../shared/data/gap is
absent. `python -m services.matching.bench gap-suite` runs the same with more options."""

from rich.console import Console

from services.matching.bench import GAP_DATA, run_gap_suite, suite_summary, suite_table


def run(time_limit_s: float = 30.0) -> list[tuple[str, str]]:
    if not GAP_DATA.is_dir():
        return [("GAP suite", f"skipped: {GAP_DATA} absent")]
    rows = run_gap_suite(GAP_DATA, time_limit_s)
    Console(width=160).print(suite_table(rows, time_limit_s))
    return suite_summary(rows)
