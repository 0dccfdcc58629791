"""Input and result of DormantAccountWorkflow, and the named retry policies its steps use."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from reactivation.policy_config import PolicyConfig
from reactivation.review_model import ReviewState
from reactivation.vocabulary import Outcome, Stage


class LifecycleTimings(BaseModel):
    """Every duration the lifecycle waits, as an input: days in production, seconds in tests and the bench."""

    follow_up_after: timedelta = timedelta(days=2)
    outcome_window: timedelta = timedelta(days=30)
    review_reminder_after: timedelta = timedelta(days=3)
    review_escalate_after: timedelta = timedelta(days=7)
    delivery_timeout: timedelta = timedelta(seconds=60)  # one send attempt; Temporal retries after it
    delivery_give_up_after: timedelta = timedelta(days=1)  # then the account returns to its owner


class DormantAccountInput(BaseModel):
    account_id: str
    reason: str = ""
    source: str = "trigger"  # trigger | scan | monitor
    timings: LifecycleTimings = LifecycleTimings()
    policy: PolicyConfig = PolicyConfig()  # the rules in force for this episode, recorded with each decision
    llm_task_queue: str | None = None  # drafting runs on its own rate-limited queue when set
    standing_approval: bool = False  # admin-configured auto-approval for marketing-led self-serve accounts
    send_window: str = ""  # customer-local business hours, e.g. "Mon-Fri 09:00-17:00"; "" = any time
    default_timezone: str = "UTC"  # for accounts whose CRM record has no timezone
    holdout_share: float = 0.0  # share of eligible accounts assigned to the control group (no outreach)
    holdout_salt: str = ""  # with the account id, decides the arm deterministically
    carried: ReviewState | None = None  # state carried across continue-as-new (monitor loops)
    seq: int = 0  # ledger sequence carried across continue-as-new
    # The domain of our Message-IDs (the sender's), so the workflow can name a message before it is sent and
    # hand the delivery activity the ledger event of its success; "" (executions started before): it does not.
    message_domain: str = ""


class DormantAccountResult(BaseModel):
    account_id: str
    stage: Stage
    outcome: Outcome | None
    sent_message_ids: list[str] = []


def workflow_id_for(account_id: str) -> str:
    return f"dormant-account-{account_id}"
