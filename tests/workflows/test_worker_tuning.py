"""Worker tuning settings reach the Temporal workers the product runs."""

from __future__ import annotations

from pydantic import SecretStr

from worker import build_workers


async def test_tuning_settings_reach_the_workers(client, pool, settings):
    tuned = settings.model_copy(update={"worker_workflow_tasks": 7, "worker_activities": 9,
                                        "worker_local_activities": 11, "sticky_cache_size": 13,
                                        "activity_rate_per_s": 5.0, "openai_api_key": SecretStr("sk-x"),
                                        "llm_rate_per_s": 0.5})
    main, llm = build_workers(client, pool, tuned)
    config = main.config()
    assert (config["max_concurrent_workflow_tasks"], config["max_concurrent_activities"],
            config["max_concurrent_local_activities"], config["max_cached_workflows"]) == (7, 9, 11, 13)
    assert config["max_task_queue_activities_per_second"] == 5.0
    assert llm.config()["task_queue"] == tuned.llm_task_queue
    assert llm.config()["max_task_queue_activities_per_second"] == 0.5
