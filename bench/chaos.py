"""The larger chaos run: `python -m bench.chaos [--accounts 1000] [--kills 10]`.

Same scenario and checks as tests/chaos (CI runs 200 accounts); prints the summary and any problem, and
writes bench/results/chaos.json. Exit status 1 when something was lost or duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from tests.chaos.scenario import Chaos, ChaosConfig
from tests.chaos.verify import verify

RESULTS = Path(__file__).resolve().parent / "results"


async def run(config: ChaosConfig) -> int:
    with tempfile.TemporaryDirectory(prefix="dormant-chaos-") as workdir:
        chaos = Chaos(config, Path(workdir))
        await chaos.start()
        try:
            elapsed = await chaos.run()
            problems, summary = await verify(chaos)
        finally:
            await chaos.stop()
    summary["elapsed_s"] = round(elapsed, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chaos.json").write_text(json.dumps({"summary": summary, "problems": problems}, indent=2))
    print(json.dumps(summary, indent=2))
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=10, help="worker SIGKILLs")
    parser.add_argument("--deadline", type=float, default=1800.0, help="seconds before giving up")
    args = parser.parse_args()
    config = ChaosConfig(accounts=args.accounts, worker_kills=args.kills, deadline_s=args.deadline)
    return asyncio.run(run(config))


if __name__ == "__main__":
    sys.exit(main())
