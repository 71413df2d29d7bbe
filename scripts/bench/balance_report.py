#!/usr/bin/env python3
"""The "Balancing quality" tables of scripts/bench/balance.sh, in markdown.

    balance_report.py RAW.tsv NOTES.txt OURS_LINE SETTINGS_LINE

RAW has one line per scenario, target and round (balance.sh writes it). Each
cell is the median over the rounds, with the worst round beside it; each goal
compares ours with the better of nginx and HAProxy in the same run.
"""
import csv
import math
import statistics
import sys

TARGETS = [("ours", "ours"), ("nginx", "nginx"), ("haproxy", "HAProxy")]
TITLES = {
    "equal": "equal backends, 50% load",
    "gray-low": "one backend 5x slower, health passing (gray failure), 25% load",
    "gray-high": "the same gray failure at 75% of the two good ones",
    "pause": "one backend pauses 400 ms every 3 s (GC), 50% load",
    "uneven": "capacities 2/8/16 workers, no weights, 70% load",
    "fail-fast": "one backend answers 503 at once, health passing, 50% of the good ones",
    "overload": "125% of capacity",
}


def num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def ms(v):
    if math.isnan(v):
        return "-"
    if v >= 1000:
        return f"{v / 1000:.2g} s" if v < 10000 else f"{v / 1000:.0f} s"
    return f"{v:.1f} ms" if v < 10 else f"{v:.0f} ms"


class Run:
    """The rounds of one scenario and target."""

    def __init__(self, rows):
        self.rows = rows

    def values(self, key):
        return [v for v in (self.value(r, key) for r in self.rows) if not math.isnan(v)]

    @staticmethod
    def value(r, key):
        if key == "client_errors":  # everything that is not a 2xx answer
            return num(r["non2xx"]) + num(r["errors"])
        if key == "served_pct":  # 2xx answered per second while the load was on, as % of the capacity
            return 100 * num(r["ok_in_window"]) / num(r["duration"]) / num(r["capacity"])
        if key == "b1_share":
            counts = dict(kv.split("=") for kv in r["backends"].split(",") if "=" in kv)
            total = sum(int(n) for n in counts.values())
            return 100 * int(counts.get("b1", 0)) / total if total else math.nan
        return num(r[key])

    def median(self, key):
        v = self.values(key)
        return statistics.median(v) if v else math.nan

    def worst(self, key, higher_is_worse=True):
        v = self.values(key)
        return (max(v) if higher_is_worse else min(v)) if v else math.nan


def main():
    raw, notes_file, ours_line, settings = sys.argv[1:5]
    with open(raw) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    runs = {}
    for r in rows:
        runs.setdefault((r["scenario"], r["target"]), []).append(r)
    runs = {k: Run(v) for k, v in runs.items()}
    scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
    rounds = max((len(run.rows) for run in runs.values()), default=0)

    def cell(scenario, target, key, fmt=ms, higher_is_worse=True):
        run = runs.get((scenario, target))
        if not run or not run.values(key):
            return "-"
        text = fmt(run.median(key))
        if rounds > 1:
            text += f" (worst {fmt(run.worst(key, higher_is_worse))})"
        return text

    def med(scenario, target, key):
        run = runs.get((scenario, target))
        return run.median(key) if run else math.nan

    def better_peer(scenario, key):
        peers = [v for v in (med(scenario, "nginx", key), med(scenario, "haproxy", key)) if not math.isnan(v)]
        return min(peers) if peers else math.nan

    def verdict(ok):
        return "met" if ok else "**not met**"

    def ratio_goal(scenario, key, factor):
        ours, peer = med(scenario, "ours", key), better_peer(scenario, key)
        if math.isnan(ours) or math.isnan(peer) or peer == 0:
            return f"≤ {factor}× better peer", "not measured"
        return f"≤ {factor}× better peer", f"{ours / peer:.2f}×, {verdict(ours <= factor * peer)}"

    out = ["## Balancing quality", "", settings + ".", ours_line + ".", ""]
    if "sanity" in scenarios:
        out += ["| bench self-check | this run | expected | |", "|---|---|---|---|"]
        p50, mean = med("sanity", "direct", "p50"), med("sanity", "direct", "mean")
        out.append(f"| one backend directly, 40 req/s: p50 / mean | {ms(p50)} / {ms(mean)} | 13.9 ms / 20 ms "
                   f"(exponential, mean 20 ms) | {verdict(11.5 <= p50 <= 16.5 and 17 <= mean <= 23)} |")
        rate, lag = med("sanity", "instant", "achieved"), med("sanity", "instant", "send_lag_p99")
        out.append(f"| generator at 1500 req/s: achieved rate / send lag p99 | {rate:.0f} req/s / {ms(lag)} | "
                   f"1500 ± 5% / < 1 ms | {verdict(abs(rate - 1500) <= 75 and lag < 1)} |")
        out.append("")

    if any(s in TITLES for s in scenarios):
        out += ["| scenario | measure | ours | nginx | HAProxy | goal | ours vs better peer |",
                "|---|---|---:|---:|---:|---|---|"]

    def row(scenario, measure, key, goal_text, goal_result, fmt=ms, higher_is_worse=True):
        cells = " | ".join(cell(scenario, t, key, fmt, higher_is_worse) for t, _ in TARGETS)
        out.append(f"| {TITLES[scenario]} | {measure} | {cells} | {goal_text} | {goal_result} |")

    pct = lambda v: f"{v:.0f}%"  # noqa: E731
    count = lambda v: f"{v:.0f}"  # noqa: E731
    for s in scenarios:
        if s in ("equal", "gray-low", "gray-high", "uneven"):
            factor = {"equal": 1.1, "gray-low": 0.5, "gray-high": 0.5, "uneven": 1.0}[s]
            row(s, "p99", "p99", *ratio_goal(s, "p99", factor))
        elif s == "pause":
            row(s, "p99.9", "p99.9", *ratio_goal(s, "p99.9", 0.6))
        elif s == "fail-fast":
            errors = med(s, "ours", "client_errors")
            row(s, "client errors", "client_errors", "none", "-" if math.isnan(errors) else
                f"{errors:.0f}, {verdict(errors == 0)}", count)
            row(s, "p99", "p99", *ratio_goal(s, "p99", 1.1))
        elif s == "overload":
            served, p99 = med(s, "ours", "served_pct"), med(s, "ours", "p99")
            refused, timeouts = med(s, "ours", "non2xx_p99"), med(s, "ours", "timeouts")
            row(s, "p50 of 2xx", "p50", "", "")
            row(s, "p99 of 2xx", "p99", "≤ 500 ms", "-" if math.isnan(p99) else verdict(p99 <= 500))
            row(s, "2xx served, % of capacity", "served_pct", "≥ 90%",
                "-" if math.isnan(served) else verdict(served >= 90), pct, False)
            row(s, "p99 of refusals (non-2xx)", "non2xx_p99", "< 10 ms, no timeouts",
                verdict((math.isnan(refused) or refused < 10) and timeouts == 0))
            row(s, "timeouts (10 s)", "timeouts", "", "", count)

    out += ["", "Details (medians over the rounds; b1 is the backend that is slow, pauses or fails):", "",
            "| scenario | target | sent | 2xx | non-2xx | failures (timeouts) | p50 | p99 | p99.9 | to b1 |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (s, t), run in runs.items():
        b1 = run.median("b1_share")
        out.append(f"| {s} | {t} | {run.median('sent'):.0f} | {run.median('ok'):.0f} | {run.median('non2xx'):.0f} | "
                   f"{run.median('errors'):.0f} ({run.median('timeouts'):.0f}) | {ms(run.median('p50'))} | "
                   f"{ms(run.median('p99'))} | {ms(run.median('p99.9'))} | "
                   f"{'-' if math.isnan(b1) else f'{b1:.1f}%'} |")
    with open(notes_file) as f:
        notes = [line.strip() for line in f if line.strip()]
    if notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    print("\n".join(out))


if __name__ == "__main__":
    main()
