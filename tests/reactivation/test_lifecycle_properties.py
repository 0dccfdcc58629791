"""Property tests of the pure lifecycle: random interleavings of owner decisions, CRM events, timers,
draft and delivery results, checked against the promises the product makes.

A simulated interpreter keeps the machine's pending commands; each step either completes one of them
(evidence, a draft, a send-window plan, a delivery with any result) or delivers an outside message (a
decision from the owner, another owner or an admin; any CRM event; the pending timer firing). After
every step the invariants below must hold.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from reactivation.assessment_model import Assessment, Priority
from reactivation.lifecycle import transition
from reactivation.lifecycle_model import (
    Begin,
    CrmEventIn,
    Decided,
    Deliver,
    DeliveryOutcome,
    DraftReady,
    EvidenceReady,
    Finish,
    GatherEvidence,
    LifecycleConfig,
    LifecycleState,
    Phase,
    PlanSend,
    PrepareDraft,
    Record,
    ReviewAgain,
    SendSlot,
    TimerFired,
)
from reactivation.lifecycle_rules import refusal, stage_for, with_edits
from reactivation.review_model import CrmEvent, Decision, OutreachDraft, ReviewBrief, ReviewState
from reactivation.vocabulary import (
    Action,
    CrmEventType,
    DeliveryStatus,
    GuardStop,
    LedgerKind,
    MessageKind,
    Path,
    Stage,
)

OWNER, OTHER, ADMIN = "owner@test.dormant", "someone@test.dormant", "admin@test.dormant"
TERMINAL_STOPS = {CrmEventType.opt_out, CrmEventType.bounce, CrmEventType.reply, CrmEventType.activity}

decisions = st.fixed_dictionaries(dict(
    action=st.sampled_from([Action.approve] * 3 + list(Action)),
    draft_version=st.sampled_from(["current"] * 5 + [0, 1, 7]),  # mostly the draft on the table
    decided_by=st.sampled_from([OWNER] * 4 + [OTHER, OWNER.upper(), ADMIN]),
    decided_by_admin=st.sampled_from([False] * 4 + [True]),
    subject=st.one_of(st.none(), st.sampled_from(["Edited subject", "Line\r\nBcc: x@y", ""])),
    body=st.one_of(st.none(), st.sampled_from(["Edited body", "", "x" * 400])),
    channel=st.one_of(st.none(), st.sampled_from(["email", "sms", "call"])),
    send_at=st.one_of(st.none(), st.integers(-60, 3600)),  # seconds from now
    reason=st.one_of(st.none(), st.sampled_from(["responded", "no_response", "not now", ""])),
    until=st.one_of(st.none(), st.integers(-2, 40)),  # days from today
))
# Mostly events that do not end the episode, so the generated runs get far into the lifecycle.
EVENT_MIX = [CrmEventType.owner_changed, CrmEventType.issue_resolved, CrmEventType.issue_opened] * 3 + list(CrmEventType)
crm_events = st.builds(CrmEvent, type=st.sampled_from(EVENT_MIX), at=st.just(datetime(2026, 1, 1, tzinfo=UTC)),
                       detail=st.sampled_from(["", "detail"]),
                       new_owner_email=st.sampled_from([None, "New.Owner@Test.Dormant", OWNER]),
                       return_on=st.sampled_from([None, date(2026, 1, 9), date(2025, 12, 1)]))


def _assessment(path: Path, flags: list[str]) -> Assessment:
    return Assessment(path=path, verdicts=[], flags=flags, priority=Priority(score=50, factors=[]),
                      recommended_next_step="", review_again_on=date(2026, 3, 1) if path == Path.monitor else None)


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2026, 1, 1, 9, tzinfo=UTC)
        self.config = LifecycleConfig(account_id="acc-1", follow_up_after=timedelta(days=2),
                                      outcome_window=timedelta(days=30), holdout_share=0.0)
        self.state = LifecycleState(review=ReviewState(account_id="acc-1", episode="ep-1",
                                                       stage=Stage.gathering_evidence))
        self.pending: list = []
        self.approved_content: OutreachDraft | None = None
        self.stopped_for_good = False  # a terminal stop event arrived
        self.issue_since_approval = False
        self.finishes = 0
        self.after_end = 0  # messages delivered after the episode ended
        self.steps = 0

    @initialize(standing=st.booleans(), holdout=st.sampled_from([0.0, 0.0, 0.5]))
    def begin(self, standing, holdout):
        """The admin's switches vary per run: standing approval on or off, a holdout share or none."""
        self.config = self.config.model_copy(update={"standing_approval": standing, "holdout_share": holdout,
                                                     "holdout_salt": "s"})
        self.feed(Begin(at=self.now))

    # ------------------------------------------------------------ plumbing

    def feed(self, event) -> list:
        before = self.state
        before_json = before.model_dump_json()
        self.after_end += before.phase == Phase.done
        self.state, commands = transition(self.state, event, self.config)
        assert before.model_dump_json() == before_json, "transition mutated the state it was given"
        assert self.state is not before and self.state.review is not before.review
        self.check_commands(before, event, commands)
        self.pending.extend(c for c in commands if not isinstance(c, (Record, Finish)))
        return commands

    def tick(self, seconds: int = 1) -> None:
        self.now += timedelta(seconds=seconds)
        self.steps += 1

    def check_commands(self, before: LifecycleState, event, commands: list) -> None:
        if before.phase == Phase.done:
            assert commands == [], f"a finished episode reacted to {event}"
        for command in commands:
            if isinstance(command, Deliver):
                assert not self.stopped_for_good, "sent after a stop event"
                assert not self.issue_since_approval, "sent after an issue was opened, without a new approval"
                content = self.approved_content
                assert content is not None, "sent without an approval"
                assert command.channel == content.channel and command.subject == content.subject
                expected = content.body if command.message == MessageKind.first else content.follow_up_body
                assert command.body == expected, "the sent text is not what the owner approved"
            if isinstance(command, Record):
                assert command.owner_email == self.state.review.owner_email or command.kind == LedgerKind.reassigned \
                    or before.review.owner_email == command.owner_email
        finishes = [c for c in commands if isinstance(c, Finish)]
        self.finishes += len(finishes)
        assert self.finishes <= 1, "an episode ended twice"
        if finishes:
            assert self.state.review.outcome == finishes[0].outcome
            if before.phase == Phase.owner_task:  # only the owner's logged outcome or a customer response
                assert (isinstance(event, Decided) and event.decision.action == Action.close) or (
                    isinstance(event, CrmEventIn) and event.event.type in
                    (CrmEventType.activity, CrmEventType.reply, CrmEventType.opt_out))

    def take(self, kind):
        for i, command in enumerate(self.pending):
            if isinstance(command, kind):
                return self.pending.pop(i)
        return None

    def has(self, kind) -> bool:
        return any(isinstance(c, kind) for c in self.pending)

    # ------------------------------------------------------------ the workflow's side

    @precondition(lambda self: self.has(GatherEvidence))
    @rule(path=st.sampled_from([Path.account_led, Path.marketing_led] * 3 + [Path.hold, Path.monitor, Path.suppressed,
                                                                          Path.not_ready]),
          flags=st.sampled_from([[], ["unresolved_issue"]]), tier=st.sampled_from(["strategic", "self_serve"]))
    def evidence(self, path, flags, tier):
        self.take(GatherEvidence)
        self.tick()
        self.feed(EvidenceReady(at=self.now, assessment=_assessment(path, flags), owner_email=OWNER, tier=tier,
                                consent_status="granted"))

    @precondition(lambda self: self.has(PrepareDraft))
    @rule(channel=st.sampled_from(["email", "sms", "call"]), follow_up=st.sampled_from(["", "A short follow-up"]))
    def draft(self, channel, follow_up):
        command = self.take(PrepareDraft)
        self.tick(5)
        draft = OutreachDraft(version=command.version, channel=channel, subject=f"Subject v{command.version}",
                              body=f"Body v{command.version}", follow_up_body=follow_up)
        commands = self.feed(DraftReady(at=self.now, draft=draft, brief=ReviewBrief(
            why_quiet="", relationship_summary="", recommended_next_step="", why_this_step="")))
        if any(isinstance(c, Record) and c.kind == LedgerKind.approved for c in commands):
            assert self.config.standing_approval and self.state.review.decisions[-1].by == "rule:standing-approval"
            assert self.state.review.approved == draft, "the standing approval changed the draft"
            self.approved_content, self.issue_since_approval = draft, False

    @precondition(lambda self: self.has(PlanSend))
    @rule(later=st.integers(0, 7200))
    def plan(self, later):
        command = self.take(PlanSend)
        self.feed(SendSlot(at=self.now, message=command.message, slot=self.now + timedelta(seconds=later)))

    @precondition(lambda self: self.has(Deliver))
    @rule(status=st.sampled_from([DeliveryStatus.sent] * 3 + list(DeliveryStatus)), stop=st.one_of(st.none(), st.sampled_from(list(GuardStop))))
    def delivered(self, status, stop):
        command = self.take(Deliver)
        self.tick(2)
        commands = self.feed(DeliveryOutcome(at=self.now, message=command.message, status=status,
                                             message_id=f"<{command.message.value}@x>",
                                             stop=stop if status == DeliveryStatus.blocked else None))
        if status in (DeliveryStatus.sent, DeliveryStatus.uncertain):  # a message that went out is always recorded
            kinds = [c.kind for c in commands if isinstance(c, Record)]
            assert {LedgerKind.sent, LedgerKind.follow_up_sent} & set(kinds), "a sent message was not recorded"
        if status == DeliveryStatus.blocked and stop == GuardStop.window_closed:
            return
        if any(isinstance(c, Finish) for c in commands) or self.state.phase in (Phase.awaiting_review, Phase.held):
            self.approved_content = self.approved_content if self.state.phase != Phase.done else None

    @precondition(lambda self: self.has(ReviewAgain))
    @rule()
    def review_again(self):
        """The monitor date came: the workflow continues as new with the review carried over."""
        self.take(ReviewAgain)
        if self.state.phase != Phase.monitoring:
            return  # ended (or decided) before the workflow got to it: the interpreter skips it too
        carried = self.state.review.model_copy(update={"stage": Stage.gathering_evidence, "approved": None})
        self.state = LifecycleState(review=carried)
        self.feed(Begin(at=self.now))

    # ------------------------------------------------------------ the outside world

    def live_or_probing(self) -> bool:
        """Outside messages interleave with the workflow's own work (every third step while a command is
        pending, so runs get far into the lifecycle); once the episode ended, a few more probe that it
        ignores them."""
        return self.after_end <= 3 and (not self.pending or self.steps % 3 == 0)

    @rule(seconds=st.integers(1, 3600))
    def time_passes(self, seconds):
        self.tick(seconds)

    @precondition(lambda self: self.live_or_probing())
    @rule(decision=decisions)
    def decide(self, decision):
        self.tick(30)
        if decision["send_at"] is not None:
            decision["send_at"] = self.now + timedelta(seconds=decision["send_at"])
        if decision["until"] is not None:
            decision["until"] = self.now.date() + timedelta(days=decision["until"])
        if decision["draft_version"] == "current":
            current = self.state.review.current_draft
            decision["draft_version"] = current.version if current else 0
        decision = Decision(**decision)
        before = self.state
        refused = refusal(self.state, decision, self.now)
        if refused is not None:
            commands = self.feed(Decided(at=self.now, decision=decision))
            assert commands == [] and self.state == before, "a refused decision changed the review"
            return
        draft = before.review.current_draft
        commands = self.feed(Decided(at=self.now, decision=decision))
        kinds = [c.kind for c in commands if isinstance(c, Record)]
        assert LedgerKind.reviewed in kinds, "an accepted decision was not recorded"
        assert len(self.state.review.decisions) == len(before.review.decisions) + 1
        if decision.action == Action.approve:
            assert draft.version == decision.draft_version or before.phase not in (Phase.awaiting_review, Phase.held)
            self.approved_content = with_edits(draft, decision)
            self.issue_since_approval = False
            assert self.state.review.approved == self.approved_content or self.state.phase == Phase.owner_task
        if not decision.decided_by_admin and decision.decided_by.lower() != (before.review.owner_email or ""):
            raise AssertionError("a decision by someone else was accepted")

    @precondition(lambda self: self.live_or_probing())
    @rule(event=crm_events)
    def crm(self, event):
        self.tick(10)
        before = self.state
        self.feed(CrmEventIn(at=self.now, event=event))
        if before.phase == Phase.done:
            return
        if event.type in TERMINAL_STOPS and before.phase not in (Phase.owner_task, Phase.holdout):
            self.stopped_for_good = self.stopped_for_good or before.phase not in (
                Phase.delivering, Phase.delivering_follow_up) or True
        if event.type == CrmEventType.issue_opened and before.phase not in (Phase.delivering,
                                                                            Phase.delivering_follow_up):
            self.issue_since_approval = before.phase in (Phase.awaiting_review, Phase.held, Phase.scheduled,
                                                         Phase.redrafting, Phase.drafting, Phase.gathering) \
                or self.issue_since_approval or before.phase == Phase.awaiting_follow_up
        if event.type == CrmEventType.issue_opened and before.phase in (Phase.delivering, Phase.delivering_follow_up):
            self.issue_since_approval = True
        if event.type == CrmEventType.owner_changed and event.new_owner_email:
            assert self.state.review.owner_email == event.new_owner_email.lower()
            old = Decision(action=Action.close, draft_version=0, decided_by=OWNER, reason="x")
            if event.new_owner_email.lower() != OWNER:
                assert refusal(self.state, old, self.now).kind == "forbidden", "the old owner still decides"

    @precondition(lambda self: self.state.wake is not None and self.live_or_probing())
    @rule()
    def timer(self):
        wake = self.state.wake
        self.now = max(self.now, wake.at)
        self.feed(TimerFired(at=self.now, kind=wake.kind))

    # ------------------------------------------------------------ invariants

    @invariant()
    def never_stuck(self):
        """Every phase that waits for the workflow's own work has that work in flight (or a timer)."""
        needs = {Phase.gathering: GatherEvidence, Phase.drafting: PrepareDraft, Phase.redrafting: PrepareDraft,
                 Phase.delivering: Deliver, Phase.delivering_follow_up: Deliver}
        phase = self.state.phase
        if phase in needs and self.finishes == 0 and self.steps:
            assert self.has(needs[phase]), f"stuck in {phase.value}: nothing in flight"
        if phase in (Phase.scheduled, Phase.awaiting_follow_up):
            assert self.state.wake is not None or self.has(PlanSend), f"stuck in {phase.value}"
        if phase in (Phase.outcome_window, Phase.holdout, Phase.awaiting_review):
            assert self.state.wake is not None or self.state.reminders_sent == 2, f"no timer in {phase.value}"

    @invariant()
    def stage_matches_phase(self):
        review = self.state.review
        assert review.stage == stage_for(self.state.phase, review.outcome, self.state.follow_up_sent)
        assert (self.state.phase == Phase.done) == (review.outcome is not None)
        if self.state.phase == Phase.done:
            assert self.state.wake is None
        if self.state.phase in (Phase.scheduled, Phase.delivering):
            assert review.approved is not None
        if self.state.phase in (Phase.awaiting_review, Phase.held, Phase.redrafting, Phase.done):
            assert review.approved is None, "an approval outlived its review"


LifecycleMachine.TestCase.settings = settings(max_examples=1000, stateful_step_count=50, deadline=None,
                                              suppress_health_check=[HealthCheck.too_slow])
TestLifecycleProperties = LifecycleMachine.TestCase
