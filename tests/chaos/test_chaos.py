"""CI-sized chaos run (200 accounts): see scenario.py for what breaks and verify.py for what must hold.

The counts are written to tests/artifacts/chaos-summary.json for the record.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.chaos.scenario import Chaos, ChaosConfig
from tests.chaos.verify import verify

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


async def test_lifecycle_survives_kills_restarts_and_outages(tmp_path):
    chaos = Chaos(ChaosConfig(accounts=200, deadline_s=300), tmp_path)
    await chaos.start()
    try:
        elapsed = await chaos.run()
        problems, summary = await verify(chaos)
    finally:
        await chaos.stop()
    summary["elapsed_s"] = round(elapsed, 1)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "chaos-summary.json").write_text(json.dumps(summary, indent=2))
    assert problems == [], "\n".join(problems[:40])
    assert summary["worker_kills"] >= 3 and summary["temporal_restarts"] == 1 and summary["postgres_restarts"] == 1
    assert summary["smtp_outages"] == 1 and summary["llm_failures"] > 0
    assert summary["worker_restarts_after_own_death"] == 0, "the worker died when a dependency restarted"
    assert summary["first_emails"] >= 150
