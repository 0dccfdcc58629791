"""Throughput and latency under load as ratios against bare Temporal, in alternating rounds of one run.

product, bare, product, bare, product, bare: each round on fresh accounts (fresh workflows), the same N,
the same start and approval concurrency. A shared machine's load drifts over minutes; alternating rounds
lets each product round be compared with the bare round right after it, and the median of the per-round
ratios ignores one disturbed pair. Every per-round figure is in the JSON (`throughput_rounds`).
"""

from __future__ import annotations

import statistics

from bench.bare import bare_round, bare_shape
from bench.lifecycle import idle_latency, product_round

ROUNDS = 3


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a and b else None


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def _median_cpu(rounds: list[dict], key: str) -> dict | None:
    found = [r[key] for r in rounds if key in r]
    if not found:
        return None
    return {proc: round(statistics.median(c[proc] for c in found), 2) for proc in found[0]}


async def measure_throughput(client, worker_pool, bench_pool, settings, n: int, *, cpu=None,
                             via: str = "update", rounds: int = ROUNDS, bare_decision: str = "signal") -> dict:
    timer_s = settings.follow_up_after.total_seconds()  # each of the bare workflow's two timers
    per_round = []
    for i in range(rounds):
        print(f"  round {i + 1}/{rounds}: product", flush=True)
        product = await product_round(client, worker_pool, bench_pool, settings, n, cpu=cpu, via=via)
        print(f"  round {i + 1}/{rounds}: bare", flush=True)
        bare = await bare_round(client, n, timer_s, settings, cpu=cpu,
                                decision="update" if bare_decision == "update" else "signal")
        if bare_decision == "both":  # a third round per pair: bare again, the decision as an Update
            print(f"  round {i + 1}/{rounds}: bare, decision as an Update", flush=True)
            bare_update = await bare_round(client, n, timer_s, settings, cpu=cpu, decision="update")
            bare = {**bare, "bare_update_accounts_per_s": bare_update["bare_accounts_per_s"],
                    "ratio_vs_bare_update": _ratio(product["accounts_per_s_lifecycle"],
                                                   bare_update["bare_accounts_per_s"]),
                    **({"cpu_ms_per_account_bare_update_after_decision":
                        bare_update["cpu_ms_per_account_bare_after_signal"]}
                       if "cpu_ms_per_account_bare_after_signal" in bare_update else {})}
        row = {**product, **bare,
               "ratio_vs_bare": _ratio(product["accounts_per_s_lifecycle"], bare["bare_accounts_per_s"]),
               "ratio_to_review_vs_bare": _ratio(product["accounts_per_s_to_review"],
                                                 bare["bare_accounts_per_s_to_waiting"]),
               "approval_to_send_p99_vs_bare": _ratio(product["approval_to_send_p99_ms"],
                                                      bare["bare_signal_to_send_p99_ms"])}
        if "ratio_vs_bare_update" in row:
            print(f"  round {i + 1}: lifecycle vs a bare Update {row['ratio_vs_bare_update']}", flush=True)
        print(f"  round {i + 1}: lifecycle {row['ratio_vs_bare']}, review {row['ratio_to_review_vs_bare']}, "
              f"p99 approval->send {product['approval_to_send_p99_ms']:.0f} ms vs bare "
              f"{bare['bare_signal_to_send_p99_ms']:.0f} ms", flush=True)
        per_round.append(row)
    out: dict = {"n_accounts": n, "throughput_rounds": per_round, "rounds": rounds,
                 "bare_shape": bare_shape(timer_s, "update" if bare_decision == "update" else "signal")}
    for key in ("ratio_vs_bare", "ratio_to_review_vs_bare", "approval_to_send_p99_vs_bare",
                "accounts_per_s_to_review", "accounts_per_s_lifecycle", "bare_accounts_per_s",
                "bare_accounts_per_s_to_waiting", "approval_to_send_p50_ms", "approval_to_send_p99_ms",
                "bare_signal_to_send_p50_ms", "bare_signal_to_send_p99_ms", "approval_update_p50_ms",
                "approval_update_p99_ms", "bare_update_accounts_per_s", "ratio_vs_bare_update"):
        if any(key in r for r in per_round):  # the bare-Update figures only with --bare-decision both
            out[key] = _median(r.get(key) for r in per_round)
    for key in ("cpu_ms_per_account_review", "cpu_ms_per_account_lifecycle", "cpu_ms_per_account_bare_to_waiting",
                "cpu_ms_per_account_bare_after_signal", "cpu_ms_per_account_bare_update_after_decision"):
        cpu_median = _median_cpu(per_round, key)
        if cpu_median:
            out[key] = cpu_median
    out["ratio_vs_bare_basis"] = ("median over the rounds of (product accounts/s from first approval to all "
                                  "closed) / (bare accounts/s from first signal to all done), same N per round")
    out["approval_to_send_note"] = ("every account of a round approved 50 at a time while the rest of the "
                                    "lifecycle runs (includes queueing under load); bare: signal -> first "
                                    "no-op send activity, same concurrency")
    print("  idle latency (one approval at a time)", flush=True)
    out.update(await idle_latency(client, worker_pool, bench_pool, settings))
    return out
