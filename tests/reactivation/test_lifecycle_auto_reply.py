"""An out-of-office reply is not a response: the pure lifecycle keeps the sequence but moves the follow-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from reactivation.lifecycle import transition
from reactivation.lifecycle_model import (
    CrmEventIn,
    LifecycleConfig,
    LifecycleState,
    Phase,
    PlanSend,
    TimerFired,
    WaitKind,
    Wake,
)
from reactivation.review_model import CrmEvent, OutreachDraft, ReviewState
from reactivation.vocabulary import CrmEventType, MessageKind, Stage

SENT = datetime(2026, 12, 2, 10, tzinfo=UTC)
CONFIG = LifecycleConfig(account_id="a-1", follow_up_after=timedelta(days=2), outcome_window=timedelta(days=30))


def waiting_for_follow_up() -> LifecycleState:
    draft = OutreachDraft(version=1, channel="email", subject="Your rollout", body="Hello", follow_up_body="Again")
    review = ReviewState(account_id="a-1", episode="e-1", stage=Stage.sent, approved=draft, owner_email="o@x.dormant")
    return LifecycleState(review=review, phase=Phase.awaiting_follow_up,
                          wake=Wake(kind=WaitKind.follow_up, at=SENT + CONFIG.follow_up_after),
                          outcome_deadline=SENT + CONFIG.follow_up_after + CONFIG.outcome_window)


def auto_reply(return_on: date | None, at: datetime = SENT + timedelta(minutes=5)) -> CrmEventIn:
    return CrmEventIn(at=at, event=CrmEvent(type=CrmEventType.auto_reply, at=at, detail="Out of office",
                                             return_on=return_on))


def test_the_follow_up_waits_until_the_day_after_the_return_date():
    state, commands = transition(waiting_for_follow_up(), auto_reply(date(2026, 12, 14)), CONFIG)
    assert state.phase == Phase.awaiting_follow_up and commands == []
    assert state.wake == Wake(kind=WaitKind.follow_up, at=datetime(2026, 12, 15, tzinfo=UTC))
    assert state.outcome_deadline == datetime(2026, 12, 15, tzinfo=UTC) + CONFIG.outcome_window
    assert "2026-12-14" in state.review.notice and state.review.outcome is None
    # the workflow sleeps until the new wake-up (it re-plans when the wake changes); then the follow-up goes
    state, commands = transition(state, TimerFired(at=state.wake.at, kind=WaitKind.follow_up), CONFIG)
    assert commands == [PlanSend(message=MessageKind.follow_up)]


@pytest.mark.parametrize("return_on", [None, date(2026, 12, 3)])
def test_no_date_or_a_return_before_the_follow_up_changes_nothing_but_the_notice(return_on):
    before = waiting_for_follow_up()
    state, commands = transition(before, auto_reply(return_on), CONFIG)
    assert (state.phase, state.wake, state.outcome_deadline, commands) == (
        before.phase, before.wake, before.outcome_deadline, [])
    assert "automatic reply" in state.review.notice


def test_an_auto_reply_never_ends_the_episode_in_any_phase():
    for phase in Phase:
        state = waiting_for_follow_up().model_copy(update={"phase": phase, "wake": None})
        after, commands = transition(state, auto_reply(date(2026, 12, 20)), CONFIG)
        assert after.review.outcome is None and not any(type(c).__name__ == "Finish" for c in commands), phase
