"""Match runs on the generated market: end to end (index, candidates, solve) at the sizes `make
bench` can afford, greedy against the solver, and shortlist and recommendation latency. The
full table, up to 300k workers, is `python -m services.matching.bench market`."""

from services.matching.bench import latency_rows, run_market_apart

SIZES = ("2k", "20k", "50k")


def run(sizes: tuple[str, ...] = SIZES, latency: str | None = "50k") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for size in sizes:
        r = run_market_apart(size, seed=1, budget_s=None)
        greedy = "-" if r.greedy is None else f"{r.greedy:,}"
        margin = "" if r.margin is None else f", solver {100 * r.margin:+.2f}%"
        rows += [
            (
                f"{size}: index + candidates + solve",
                f"{r.load_s:.1f} + {r.candidates_s:.1f} + {r.solve_s:.1f} = {r.wall_s:.1f} s "
                f"(target {r.budget_s:g} s)",
            ),
            (
                f"{size}: model",
                f"{r.pairs:,} pairs of {r.found:,} eligible, {r.components:,} parts",
            ),
            (
                f"{size}: objective",
                f"{r.objective:,} {r.status}, gap {100 * r.gap:.2f}%, greedy {greedy}{margin}",
            ),
            (f"{size}: peak RSS (MiB, own process)", f"{r.peak_rss_mib:,.0f}"),
            (f"{size}: targets", "met" if r.met else "MISSED"),
        ]
    if latency:
        rows += latency_rows(latency)
    return rows
