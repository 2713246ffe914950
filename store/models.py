"""SQLAlchemy 2.0 models: the durable record behind events, profiles, rules and deliveries.

Every uniqueness the engine relies on for exactly-once behaviour is a database constraint:
events by id, firings by (rule, dedupe key), notifications by key, tasks by key.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# What a notification row's `status` can be (see Notification.status); the API filters by these.
NotificationStatus = Literal["pending", "delivered", "failed", "digest"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores UTC, returns aware datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    manager_id: Mapped[str | None] = mapped_column(String(64), index=True)
    hrbp_id: Mapped[str | None] = mapped_column(String(64))
    department: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    hired_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    hometown_city: Mapped[str | None] = mapped_column(String(100))
    work_city: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(16), default="zh-CN")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    groups: Mapped[list[Any]] = mapped_column(JSON, default=list)
    wecom_userid: Mapped[str | None] = mapped_column(String(64), index=True)
    # Channel names in order of preference; a rule's `channels: [preferred]` means these.
    preferred_channels: Mapped[list[Any] | None] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Event(Base):
    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    employee_id: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Profile(Base):
    __tablename__ = "profiles"

    employee_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # What rules see as `profile.*` (see rules.catalog.PROFILE_FIELDS).
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The rolling windows the facts are derived from (days, scores), never shown to rules.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Rule(Base):
    __tablename__ = "rules"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    current_digest: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1)
    trigger_kind: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str | None] = mapped_column(String(64))
    source_path: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RuleVersion(Base):
    __tablename__ = "rule_versions"

    rule_id: Mapped[str] = mapped_column(ForeignKey("rules.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    source_text: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who stored it: a console user, a token's name, or "folder" for a reload of the files.
    created_by: Mapped[str | None] = mapped_column(String(128))


class Firing(Base):
    __tablename__ = "firings"
    __table_args__ = (
        UniqueConstraint("rule_id", "dedupe_key", name="uq_firing_rule_key"),
        # The reconciler's question: which pending rows are due for another start attempt.
        Index("ix_firings_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(128), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(300))
    rule_digest: Mapped[str] = mapped_column(String(64))
    workflow_id: Mapped[str] = mapped_column(String(500), unique=True)
    event_id: Mapped[str | None] = mapped_column(String(128))
    employee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # pending: stored, workflow not yet confirmed started; started; failed (with error).
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # The workflow input, kept so a pending firing can be started again after a crash.
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # Start attempts so far, and when a failed one may be tried again (backoff): a row that
    # keeps failing waits longer each time instead of being first in every reconciler pass.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()



class Decision(Base):
    """One rule decision: a firing, or a match that was held back (and why).

    Written in the batch's transaction, one bulk insert per batch. `inputs` are the facts and
    event fields the rule's conditions read, sensitive text left out; `scores` the fast scores
    that decided it (label, value, model version; never the phrases they quote).
    """

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_rule_at", "rule_id", "occurred_at"),
        Index("ix_decisions_employee_at", "employee_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(128))
    rule_version: Mapped[int] = mapped_column(Integer)
    rule_digest: Mapped[str] = mapped_column(String(64))
    employee_id: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(128))
    dedupe_key: Mapped[str] = mapped_column(String(300))
    # The firing's workflow: the one this decision started, or the one that held its key.
    workflow_id: Mapped[str] = mapped_column(String(500))
    # fired, held_out, deduped, ... (an open list: see wendu.decisions.RESULTS).
    result: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # As of when it was decided: the event's time, or the schedule's fire time.
    occurred_at: Mapped[datetime] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # workflow id + step id + recipient (+ purpose): a retried activity finds it and stops.
    key: Mapped[str] = mapped_column(String(700), unique=True)
    workflow_id: Mapped[str] = mapped_column(String(500), index=True)
    step_id: Mapped[str] = mapped_column(String(200))
    rule_id: Mapped[str | None] = mapped_column(String(128), index=True)
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)
    subject_employee_id: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # A NotificationStatus: pending (claimed; not yet confirmed sent, or retrying), delivered,
    # failed, or digest (over the recipient's daily cap: not sent alone, listed in a later
    # digest message)
    status: Mapped[str] = mapped_column(String(16), default="delivered", index=True)
    # The recipient's local day a non-urgent rule message counts toward the daily cap in.
    local_date: Mapped[str | None] = mapped_column(String(10))
    # For a folded message: the digest that lists it, "digest/<recipient>/<local date sent>".
    digest_key: Mapped[str | None] = mapped_column(String(200), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # Send attempts made and when one succeeded: a retried delivery shows its history.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class NotificationCount(Base):
    """Non-urgent rule messages sent to one recipient on one of their local days: the daily
    cap's counter.

    Deciding whether a message is over the cap takes this one row (a conditional UPDATE, in
    the transaction that stores the message's rows), so two deliveries to the same recipient
    at the same instant take turns, and deliveries to anyone else do not wait for them.
    """

    __tablename__ = "notification_counts"

    recipient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The recipient's local date, as Notification.local_date.
    local_date: Mapped[str] = mapped_column(String(10), primary_key=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # parent workflow id + step id: one task per assign_task step execution.
    key: Mapped[str] = mapped_column(String(700), unique=True)
    workflow_id: Mapped[str] = mapped_column(String(500))
    parent_workflow_id: Mapped[str] = mapped_column(String(500))
    rule_id: Mapped[str | None] = mapped_column(String(128), index=True)
    subject_employee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    assignee_id: Mapped[str] = mapped_column(String(64), index=True)
    assignee_role: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    # The title per locale ({"zh-CN": ..., "en": ...}) when the rule words one for each;
    # `title` is then the Chinese one (wendu.titles picks the reader's).
    titles: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text, default="")
    # open, acknowledged, completed, dismissed
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()
    outcome_comment: Mapped[str | None] = mapped_column(Text)


class TaskAction(Base):
    __tablename__ = "task_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"), index=True)
    # acknowledge, complete, dismiss, escalate (by the engine), reassign
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Wait(Base):
    """A running workflow waiting for an event about one employee (`wait_for`)."""

    __tablename__ = "waits"
    __table_args__ = (Index("ix_waits_lookup", "event_type", "employee_id"),)

    workflow_id: Mapped[str] = mapped_column(String(500), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    employee_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WaitDelivery(Base):
    """An event owed to a waiting workflow: written with the event, marked once signalled.

    The reconciler re-sends what is still pending, so a Temporal outage between the commit and
    the signal does not lose the event the workflow waits for.
    """

    __tablename__ = "wait_deliveries"
    __table_args__ = (UniqueConstraint("workflow_id", "event_id", name="uq_wait_delivery"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(String(500))
    event_id: Mapped[str] = mapped_column(String(128))
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending, sent, gone (the workflow had finished)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class Outcome(Base):
    """A `record` step's metric, once per workflow step."""

    __tablename__ = "outcomes"
    __table_args__ = (UniqueConstraint("workflow_id", "step_id", name="uq_outcome_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(128), index=True)
    workflow_id: Mapped[str] = mapped_column(String(500))
    step_id: Mapped[str] = mapped_column(String(200))
    employee_id: Mapped[str | None] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(128), index=True)
    value: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreRecord(Base):
    """Which scorer and model version scored a firing, with the factors it gave."""

    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("workflow_id", "step_id", name="uq_score_step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workflow_id: Mapped[str] = mapped_column(String(500))
    step_id: Mapped[str] = mapped_column(String(200))
    employee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    scorer: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    # The scorer's own label: a retry returns it as given, even if thresholds changed since.
    label: Mapped[str | None] = mapped_column(String(64))
    factors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # sha256 of the token; the token itself is shown once, at creation.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The employee the token acts for (`wendu tokens create --actor`): it acts on tasks only
    # as that person and reads only their inbox. NULL: an integration-wide token.
    actor_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
