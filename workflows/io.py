"""Inputs and outputs of the workflows and their activities.

Workflows and activities meet only through these models (carried by the pydantic data
converter), and activities are dispatched by the names below, so the workflow modules never
import the activity code, the database or the template engine.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from wendu.rules.plan import AssignTaskStep, Plan, TemplateLookup

# Activity names (the activities register under these).
EVALUATE = "wendu.evaluate"  # local activity: expressions and text templates over the context
NOTIFY = "wendu.notify"
SCORE = "wendu.score"
RECORD_OUTCOME = "wendu.record_outcome"
CREATE_TASK = "wendu.create_task"
NOTIFY_TASK = "wendu.notify_task"
ESCALATE_TASK = "wendu.escalate_task"
APPLY_TASK_ACTION = "wendu.apply_task_action"
UNDO_TASK_ACTION = "wendu.undo_task_action"
REGISTER_WAIT = "wendu.register_wait"
# The actor the engine acts as in a task's action log (an escalation, a `done_when` event).
ENGINE_ACTOR = "wendu"
CLEAR_WAIT = "wendu.clear_wait"
SCAN_SCHEDULE = "wendu.scan_schedule"
REACH = "wendu.reach"  # local activity: when each recipient may be reached (quiet hours)
WORKING_TIME = "wendu.working_time"  # local activity: due and reminder times in working days
SEND_DIGESTS = "wendu.send_digests"

# Signals, updates and queries.
EVENT_SIGNAL = "event"  # RuleWorkflow: an event a `wait_for` step registered for
TASK_ACT_UPDATE = "act"  # TaskWorkflow: an assignee's action
TASK_SNOOZE_UPDATE = "snooze"  # TaskWorkflow: the assignee puts reminders and escalation off
TASK_UNDO_UPDATE = "undo"  # TaskWorkflow: takes back the actor's last action within a minute
TASK_STATE_QUERY = "state"


class Firing(BaseModel):
    rule_id: str
    dedupe_key: str
    employee_id: str | None = None
    event_id: str | None = None
    # The "why": the conditions that matched and the values they looked at.
    matched: list[str] = []
    values: dict[str, Any] = {}


class RuleInput(BaseModel):
    plan: Plan
    firing: Firing
    # {"event": {...}|None, "employee": {...}, "profile": {...}, "rule": {...}, "vars": {}}
    # JSON values only (dates as ISO strings): the context is in workflow history.
    context: dict[str, Any]


class RuleResult(BaseModel):
    rule_id: str
    status: Literal["completed"] = "completed"
    steps_run: list[str] = []
    vars: dict[str, Any] = {}


class EvaluateInput(BaseModel):
    context: dict[str, Any]
    # name -> expression source (evaluated as values)
    expressions: dict[str, str] = {}
    # name -> template source (rendered to text)
    texts: dict[str, str] = {}


class EvaluateResult(BaseModel):
    values: dict[str, Any] = {}
    texts: dict[str, str] = {}


class NotifyInput(BaseModel):
    # Deliveries are keyed by f"{workflow_id}/{step_id}/{recipient_id}/{channel}".
    workflow_id: str
    step_id: str
    rule_id: str
    template: str
    channels: list[str]
    roles: list[str] = []
    recipient_ids: list[str] = []
    subject_employee_id: str | None = None
    context: dict[str, Any]
    urgent: bool = False
    # Extra variables for the template (e.g. `task`), on top of the context.
    extra: dict[str, Any] = {}
    # Appended to each delivery key when one step notifies the same person more than once
    # (task reminders and escalations: "reminder/0/1", "escalated/1").
    purpose: str = ""
    # Only these of the people the roles name (recipients held by quiet hours come later).
    only_ids: list[str] = []
    # The workflow's time when the message was due (ISO): the local day the cap counts in.
    at: str | None = None
    # The rule's daily cap (None: the worker's setting, 0: none).
    daily_cap: int | None = None
    # The step's `once_per` period: the delivery key is then the template's, per person and
    # period, so another firing (or rule) sending it in the same period reaches nobody twice.
    once_per: str | None = None
    # The notify step's category (rules.categories); None: its template's.
    category: str | None = Field(default=None, exclude_if=lambda v: v is None)
    # `template: {from: <table>, key: ...}`: the activity picks the template (then "").
    template_from: TemplateLookup | None = None


class ReachInput(BaseModel):
    roles: list[str] = []
    recipient_ids: list[str] = []
    subject_employee_id: str | None = None
    # The rule's quiet hours (None: the worker's setting, "": none).
    quiet_hours: str | None = None
    # workflow.now(), ISO: the answer is a function of it, recorded in history.
    now: str


class WorkingTimeInput(BaseModel):
    # workflow.now() (or the due time to count back from), ISO: recorded with its answer.
    start: str
    seconds: int
    # Offsets before the due time (reminders), counted back in working days as well.
    before: list[int] = []


class WorkingTimeResult(BaseModel):
    due_at: str
    remind_at: list[str] = []  # one per offset of `before`, in its order


class ReachGroup(BaseModel):
    at: str
    recipient_ids: list[str]


class ReachResult(BaseModel):
    # Reachable at once; then those in quiet hours, grouped by when theirs end, earliest first.
    now_ids: list[str] = []
    held: list[ReachGroup] = []


class DigestInput(BaseModel):
    # The digest workflow's time (ISO): whose local day has rolled over is judged by it.
    now: str


class DigestResult(BaseModel):
    sent: list[str] = []


class Delivery(BaseModel):
    recipient_id: str
    channel: str
    notification_id: int
    # digest: over the recipient's daily cap, stored for their next digest message;
    # repeated: a `once_per` message another firing sent this period (not sent again)
    status: Literal["delivered", "failed", "duplicate", "digest", "repeated"]


class NotifyResult(BaseModel):
    deliveries: list[Delivery] = []
    # Roles that resolved to nobody (e.g. no skip-level manager): recorded, not fatal.
    unresolved: list[str] = []
    # Recipients who muted this message's category (wendu.preferences): nothing sent to them.
    muted: list[str] = Field(default=[], exclude_if=lambda v: not v)


class ScoreInput(BaseModel):
    workflow_id: str
    step_id: str
    scorer: str
    employee_id: str | None
    context: dict[str, Any]
    # The step's evaluated `with:` arguments; the scorer sees them as context["args"].
    args: dict[str, Any] = Field(default={}, exclude_if=lambda v: not v)


class ScoreResult(BaseModel):
    value: float
    label: str = ""
    factors: list[dict[str, Any]] = []
    model_version: str = ""


class RecordInput(BaseModel):
    workflow_id: str
    step_id: str
    rule_id: str
    employee_id: str | None
    metric: str
    value: float | None = None
    # Or the step's expression, evaluated by the activity in `context` (one local activity
    # for the whole step); `at` is where the step is written, for a value that is no number.
    expression: str | None = None
    context: dict[str, Any] | None = None
    at: str = ""


class TaskInput(BaseModel):
    # parent workflow id + "/" + step id
    task_key: str
    task_id: str
    parent_workflow_id: str
    rule_id: str
    step: AssignTaskStep
    title: str
    # The title per locale ("zh-CN", "en") when the rule words it for each; `title` is then
    # the Chinese one.
    titles: dict[str, str] = Field(default_factory=dict, exclude_if=lambda v: not v)
    subject_employee_id: str | None
    context: dict[str, Any]
    # Why the rule fired (rule version, matched conditions): the assignment message shows it.
    why: str = ""
    why_zh: str = ""  # the same, worded for Chinese messages
    # The rule's quiet hours for the assignment message (None: the worker's setting).
    quiet_hours: str | None = None


class TaskView(BaseModel):
    id: str
    title: str
    titles: dict[str, str] | None = Field(default=None, exclude_if=lambda v: not v)
    # acknowledged: the assignee is on it (in progress); still open until completed or dismissed
    status: Literal["open", "acknowledged", "completed", "dismissed"]
    assignee_id: str
    assignee_role: str
    escalation_level: int = 0
    due_at: str
    rule_id: str | None = None
    subject_employee_id: str | None = None
    comment: str | None = None
    # Set by the workflow (not stored): reminders and escalation wait until then (ISO).
    snoozed_until: str | None = None
    # Set by the workflow (not stored): `undo_by` may take back their last action until then.
    undo_until: str | None = Field(default=None, exclude_if=lambda v: v is None)
    undo_by: str | None = Field(default=None, exclude_if=lambda v: v is None)


class CreateTaskInput(BaseModel):
    task: TaskInput
    workflow_id: str
    # ISO datetime, computed from workflow.now() so retries agree.
    due_at: str


class EscalateInput(BaseModel):
    task_id: str
    role: str
    level: int
    due_at: str
    subject_employee_id: str | None


class TaskAction(BaseModel):
    # acknowledge: "I'm on it" (reminders and escalation stop; the task stays open);
    # complete / dismiss: finish it; delegate (the assignee) / reassign: hand it to `to_id`.
    action: Literal["acknowledge", "complete", "dismiss", "delegate", "reassign"]
    actor_id: str
    comment: str | None = Field(default=None, max_length=5000)
    # The employee a delegated or reassigned task goes to.
    to_id: str | None = Field(default=None, max_length=64, exclude_if=lambda v: v is None)
    # HR acknowledging or dismissing a task it is not assigned (the console's bulk actions):
    # the console alone says who is HR; the public API refuses it.
    by_hr: bool = Field(default=False, exclude_if=lambda v: not v,
                        description="The console's alone: the public API refuses it (403)")


class UndoRequest(BaseModel):
    # Only the person who took the last action, within a minute of it.
    actor_id: str


class SnoozeRequest(BaseModel):
    actor_id: str
    # ISO datetime with offset: reminders and escalation due before it wait until then.
    until: str


class ApplyActionInput(BaseModel):
    task_id: str
    action: TaskAction


class UndoInput(BaseModel):
    task_id: str
    actor_id: str


class TaskOutcome(BaseModel):
    task_id: str
    status: Literal["acknowledged", "completed", "dismissed"]
    actor_id: str
    comment: str | None = None
    escalation_level: int = 0


class WaitRegistration(BaseModel):
    workflow_id: str
    step_id: str
    event_type: str
    employee_id: str


class EventArrived(BaseModel):
    """Sent to a waiting RuleWorkflow by the ingestion path."""

    event: dict[str, Any]


class ScanInput(BaseModel):
    """A schedule trigger fired: evaluate the rule for every active employee."""

    rule_id: str
    digest: str
