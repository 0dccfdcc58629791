"""Constants of the frozen v1 workflow.

Part of the frozen v1 workflow (workflows/legacy/dormant_account_v1.py), moved here unchanged so no file
is over 300 lines; do not change its behaviour (the saved v1 histories replay against it).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    from reactivation.vocabulary import Outcome

ACCOUNT_ID = SearchAttributeKey.for_keyword("AccountId")
ACCOUNT_OWNER = SearchAttributeKey.for_keyword("AccountOwner")
STAGE = SearchAttributeKey.for_keyword("ReactivationStage")
PATH = SearchAttributeKey.for_keyword("ReactivationPath")
PRIORITY = SearchAttributeKey.for_float("ReactivationPriority")

DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                       maximum_interval=timedelta(seconds=30))
DRAFT_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                          maximum_interval=timedelta(minutes=1), maximum_attempts=4,
                          non_retryable_error_types=["LLMRejected"])
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                             maximum_interval=timedelta(minutes=5),
                             non_retryable_error_types=["NoAddress", "AccountNotFound"])

# Versioned changes (workflow.patched): running histories replay on the old branch.
SEND_WINDOW_PATCH = "send-window"  # wait for the customer's local business hours before each send
BOUNCE_PATCH = "bounce-suppresses"  # a bounce after sending ends the episode as suppressed, not no_response
HOLDOUT_PATCH = "holdout"  # eligible accounts may be assigned to the control group
DECISION_PATCH = "decision-committed-first"  # a decision is in history before the ledger records it

RESPONSE_EVENTS = {"reply": Outcome.responded, "activity": Outcome.reactivated, "opt_out": Outcome.opted_out}
OWNER_TASK_OUTCOMES = {"responded": Outcome.responded, "reactivated": Outcome.reactivated,
                       "no_response": Outcome.no_response}


class BackToReview(Exception):
    """Raised inside the send sequence when something changed and the owner must look again."""
