"""NOTIFY and NOTIFY_TASK: render per recipient and channel, store, then hand to the channel.

Exactly-once rests on the notification key, f"{workflow_id}/{step_id}/{recipient_id}/{channel}"
(+ "/<purpose>"), which is unique in the database. Each delivery first claims its key by
inserting the row (status `pending`) in its own transaction, then sends, then marks the row
`delivered`. A retried activity (worker crash, timeout, a channel that was down) meets the row:
- `delivered` or `failed`: never sent again (reported as `duplicate`);
- `pending`: the earlier send failed or its outcome is unknown, so it is sent again under the
  same key, which each channel turns into its far end's deduplication (WeCom's duplicate
  check, the e-mail Message-ID, the webhook Idempotency-Key): a retry does not reach the
  employee twice.

A channel that fails in a way that may pass (busy, rate-limited, unreachable) leaves its row
`pending` with the attempt count and the error, and the activity fails once everything else is
delivered, so Temporal retries it with backoff. On the last attempt the row is marked `failed`
with the reason instead and the activity succeeds: the rule goes on, and the failure is visible
in `GET /api/v1/notifications?status=failed`. A permanent failure (unknown user, bad address)
is marked `failed` at once. Nothing is dropped silently.

The daily cap counts a recipient's non-urgent rule messages per local day in a counter row of
their own (`notification_counts`). Whether a message is over the cap is decided, and its rows
claimed, in one transaction that writes that row first: deliveries to the same recipient at the
same instant take turns on it (SQLite's write lock, PostgreSQL's row lock), others do not.

Which channels: those the rule names. `preferred` (or no channel at all) means the recipient's
own `preferred_channels`, keeping those this worker has configured, and the in-app inbox when
none is left. Task messages go to the in-app inbox and the assignee's preferred channels, so a
manager who prefers WeCom gets the task as a card with an acknowledge button.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wendu.activities.people import Person, Resolution, resolve_ids, resolve_roles
from wendu.activities.render import TemplateRenderer
from wendu.channels.registry import ChannelError, ChannelRegistry, OutgoingMessage
from wendu.rules.expressions import evaluate
from wendu.rules.plan import TemplateLookup
from wendu.rules.policy import local_date, parse_instant
from wendu.store.db import transaction
from wendu.store.models import Employee, Notification, NotificationCount, Task, utcnow
from wendu.workflows.io import NOTIFY, NOTIFY_TASK, Delivery, NotifyInput, NotifyResult

PREFERRED = "preferred"
INAPP = "inapp"
# Rounds of the daily cap's decision when an overlapping attempt of the same message races it.
CLAIM_ATTEMPTS = 3


def delivery_key(inp: NotifyInput, recipient_id: str, channel: str, period: str = "") -> str:
    """`period` (a `once_per` step's day, week or month): the key is the template's, so any
    firing of any rule sending that template to this person in the period finds it taken."""
    if period:
        return f"once/{inp.template}/{recipient_id}/{channel}/{period}"
    key = f"{inp.workflow_id}/{inp.step_id}/{recipient_id}/{channel}"
    return f"{key}/{inp.purpose}" if inp.purpose else key


def once_period(once_per: str | None, day: date) -> str:
    """The period a `once_per` message counts in, e.g. "2026-W48"; "" without `once_per`."""
    if once_per == "day":
        return day.isoformat()
    if once_per == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if once_per == "month":
        return f"{day.year}-{day.month:02d}"
    return ""


def template_context(inp: NotifyInput, recipient: Person) -> dict[str, Any]:
    # Bound variables are visible by name, as in rule expressions; the context names win.
    ctx = dict(inp.context.get("vars") or {})
    ctx.update(inp.context)
    ctx.update(inp.extra)
    # `why` in the recipient's language, where the workflow worded it for Chinese too.
    why_zh = ctx.pop("why_zh", None)
    if why_zh and (recipient.locale or "").lower().startswith("zh"):
        ctx["why"] = why_zh
    ctx["recipient"] = recipient.as_recipient()
    return ctx


@dataclass(frozen=True)
class Contact:
    wecom_userid: str | None = None
    preferred: tuple[str, ...] = ()
    timezone: str | None = None


@dataclass(frozen=True)
class _Rendered:
    locale: str
    subject: str
    body: str


class Notifier:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        renderer: TemplateRenderer,
        channels: ChannelRegistry | None = None,
        *,
        task_url: str = "/tasks/{id}",
        max_attempts: int = 10,
        daily_cap: int = 0,
    ) -> None:
        self.session_factory = session_factory
        self.renderer = renderer
        self.channels = channels or ChannelRegistry.default()
        self.task_url = task_url
        self.max_attempts = max_attempts
        self.daily_cap = daily_cap

    @activity.defn(name=NOTIFY)
    async def notify(self, inp: NotifyInput) -> NotifyResult:
        if inp.template_from is not None:
            inp = inp.model_copy(update={"template": chosen_template(inp), "template_from": None})
        return await self._deliver_all(inp, capped=not inp.urgent)

    @activity.defn(name=NOTIFY_TASK)
    async def notify_task(self, inp: NotifyInput) -> NotifyResult:
        """A task message; nothing when the task was finished before it went out (a reminder
        held through the night for a task completed meanwhile asks for nothing)."""
        task = dict(inp.extra.get("task") or {})
        if task.get("id"):
            if not await asyncio.to_thread(self._task_open, task["id"]):
                activity.logger.info("task %s is finished: %s not sent", task["id"], inp.purpose)
                return NotifyResult()
            task.setdefault("url", self.task_url.format(id=task["id"]))
        channels = [*inp.channels, PREFERRED]
        return await self._deliver_all(
            inp.model_copy(update={"extra": {**inp.extra, "task": task}, "channels": channels})
        )

    async def deliver(self, inp: NotifyInput) -> NotifyResult:
        """A message that is not a rule step's (the daily digest): never capped or folded."""
        return await self._deliver_all(inp)

    def channels_for(self, requested: list[str], contact: Contact) -> list[str]:
        """The channels to use for one recipient, each once, in the rule's order."""
        out: list[str] = []
        for channel in requested or [PREFERRED]:
            if channel == PREFERRED:
                usable = [c for c in contact.preferred if c != PREFERRED and self.channels.get(c)]
                out.extend(usable or [INAPP])
            else:
                out.append(channel)
        return list(dict.fromkeys(out))

    async def _deliver_all(self, inp: NotifyInput, *, capped: bool = False) -> NotifyResult:
        """`capped`: a non-urgent rule message, counted toward the recipient's daily cap (task
        messages are not: a task is to be acted on, so it is never folded into a digest)."""
        found, contacts = await asyncio.to_thread(self._resolve, inp)
        at = parse_instant(inp.at)
        cap = self.daily_cap if inp.daily_cap is None else inp.daily_cap
        result = NotifyResult(unresolved=found.unresolved)
        final = self._final_attempt()
        retry_later: list[str] = []
        for person in found.people:
            # Render before storing anything: a template error fails the step for everyone.
            ctx = template_context(inp, person)
            locale, subject, body = self.renderer.render(inp.template, person.locale, ctx)
            rendered = _Rendered(locale, subject, body)
            contact = contacts.get(person.id, Contact())
            today = local_date(at, contact.timezone)
            day = today.isoformat() if capped else None
            period = once_period(inp.once_per, today)
            channels = self.channels_for(inp.channels, contact)
            fold, claims = False, None
            if day and cap:
                fold, claims = await asyncio.to_thread(
                    self._claim_within_cap, inp, person, channels, rendered, day, at, cap, period)
            for channel in channels:
                if fold:
                    result.deliveries.append(await asyncio.to_thread(
                        self._folded, inp, person, channel, claims, period))
                    continue
                variant = "" if channel == INAPP else self.renderer.variant(
                    inp.template, locale, channel, ctx)
                delivery, error = await self._deliver(
                    inp, person, contact, channel, rendered, variant, final, day, at, period,
                    claims,
                )
                result.deliveries.append(delivery)
                if error:
                    retry_later.append(error)
        if found.unresolved:
            activity.logger.warning(
                "notify %s/%s: unresolved %s", inp.workflow_id, inp.step_id, found.unresolved
            )
        if retry_later:
            # Retryable: Temporal runs the activity again with backoff; delivered rows are skipped.
            raise ApplicationError(
                f"{len(retry_later)} delivery(ies) to retry: " + "; ".join(retry_later),
                type="DeliveryRetry",
            )
        return result

    def _task_open(self, task_id: str) -> bool:
        """Whether the stored task is still open (one not stored is taken as open)."""
        with self.session_factory() as session:
            status = session.scalar(select(Task.status).where(Task.id == task_id))
        return status in (None, "open")

    def _final_attempt(self) -> bool:
        info = activity.info()
        limit = self.max_attempts
        if info.retry_policy is not None and info.retry_policy.maximum_attempts:
            limit = min(limit, info.retry_policy.maximum_attempts)
        return info.attempt >= limit

    def _resolve(self, inp: NotifyInput) -> tuple[Resolution, dict[str, Contact]]:
        with self.session_factory() as session:
            found = resolve_roles(session, inp.subject_employee_id, inp.roles)
            direct = resolve_ids(session, inp.recipient_ids)
            seen = {p.id for p in found.people}
            found.people.extend(p for p in direct.people if p.id not in seen)
            found.unresolved.extend(direct.unresolved)
            if inp.only_ids:
                found.people = [p for p in found.people if p.id in inp.only_ids]
            ids = [p.id for p in found.people]
            rows = session.execute(
                select(Employee.id, Employee.wecom_userid, Employee.preferred_channels,
                       Employee.timezone).where(Employee.id.in_(ids))
            ) if ids else []
            contacts = {
                row.id: Contact(row.wecom_userid, tuple(row.preferred_channels or ()),
                                row.timezone)
                for row in rows
            }
        return found, contacts

    async def _deliver(
        self,
        inp: NotifyInput,
        person: Person,
        contact: Contact,
        channel: str,
        msg: _Rendered,
        variant: str,
        final: bool,
        day: str | None = None,
        at: datetime | None = None,
        period: str = "",
        claims: dict[str, int | None] | None = None,
    ) -> tuple[Delivery, str]:
        """The delivery, and the error when it is to be retried by the activity.

        `claims`: the rows `_claim_within_cap` stored already (None: the key existed).
        """
        key = delivery_key(inp, person.id, channel, period)
        transport = self.channels.get(channel)

        def outcome(nid: int, status: str) -> Delivery:
            return Delivery(recipient_id=person.id, channel=channel, notification_id=nid,
                            status=status)  # type: ignore[arg-type]

        if claims is not None and channel in claims:
            claimed = claims[channel]
        else:
            claimed = await asyncio.to_thread(
                self._claim, inp, key, person, channel, msg, transport is not None, day, at
            )
        if claimed is None:
            existing_id, status, owner = await asyncio.to_thread(self._existing, key)
            if owner not in (None, inp.workflow_id):
                # A `once_per` message another firing sent (or is sending) this period.
                return outcome(existing_id, "repeated"), ""
            if status != "pending" or transport is None:
                return outcome(existing_id, "duplicate"), ""
            claimed = existing_id  # sent before with an unknown outcome, or failed to retry
        if transport is None:
            return outcome(claimed, "failed"), ""
        message = OutgoingMessage(
            claimed, key, person.id, person.name, person.email, msg.locale, msg.subject,
            msg.body, inp.urgent, variant=variant, wecom_userid=contact.wecom_userid,
            task=inp.extra.get("task") or None,
        )
        try:
            await transport.send(message)
        except ChannelError as err:
            retryable, reason = err.retryable, err.reason
        except Exception as err:  # a channel bug or a library's own error: may pass, retry
            retryable, reason = True, f"{type(err).__name__}: {err}"
        else:
            if channel != INAPP:  # the in-app row was delivered when it was stored
                await asyncio.to_thread(self._record, claimed, "delivered", None)
            return outcome(claimed, "delivered"), ""
        if retryable and not final:
            await asyncio.to_thread(self._record, claimed, "pending", reason)
            return outcome(claimed, "failed"), f"{key}: {reason}"
        if retryable:
            reason = f"gave up after {activity.info().attempt} attempts: {reason}"
        await asyncio.to_thread(self._record, claimed, "failed", reason)
        activity.logger.warning("notify %s failed: %s", key, reason)
        return outcome(claimed, "failed"), ""

    def _claim(
        self,
        inp: NotifyInput,
        key: str,
        person: Person,
        channel: str,
        msg: _Rendered,
        known_channel: bool,
        day: str | None = None,
        at: datetime | None = None,
        folded: bool = False,
    ) -> int | None:
        """The new row's id, or None when the key exists (an earlier attempt claimed it)."""
        row = self._row(inp, key, person, channel, msg, known_channel, day, at, folded)
        try:
            with transaction(self.session_factory) as session:
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def _row(
        self,
        inp: NotifyInput,
        key: str,
        person: Person,
        channel: str,
        msg: _Rendered,
        known_channel: bool,
        day: str | None,
        at: datetime | None,
        folded: bool,
    ) -> Notification:
        """The row that claims a delivery: `digest` when folded, the in-app one delivered."""
        inapp = channel == INAPP and not folded
        if folded:
            status = "digest"
        else:
            status = ("delivered" if inapp else "pending") if known_channel else "failed"
        now = at or utcnow()
        row = Notification(
            key=key,
            workflow_id=inp.workflow_id,
            step_id=inp.step_id,
            rule_id=inp.rule_id,
            recipient_id=person.id,
            subject_employee_id=inp.subject_employee_id,
            channel=channel,
            template=inp.template,
            locale=msg.locale,
            subject=msg.subject,
            body=msg.body,
            # The in-app row is the delivery itself; other channels confirm after sending.
            status=status,
            error=None if known_channel or folded else (
                f"unknown channel {channel!r} (not configured on this worker)"),
            attempts=1 if not folded and (inapp or not known_channel) else 0,
            sent_at=now if inapp and known_channel else None,
            created_at=now,
            local_date=day,
        )
        return row

    def _claim_within_cap(
        self,
        inp: NotifyInput,
        person: Person,
        channels: list[str],
        msg: _Rendered,
        day: str,
        at: datetime,
        cap: int,
        period: str = "",
    ) -> tuple[bool, dict[str, int | None]]:
        """Whether the message is over the recipient's daily cap (folded), and its rows.

        The decision and the rows are one transaction: two deliveries to the same recipient at
        the same instant cannot both take the last place, and a worker dying in between
        neither counts a message it did not store nor stores one it did not count.
        """
        keys = {channel: delivery_key(inp, person.id, channel, period) for channel in channels}
        for attempt in range(CLAIM_ATTEMPTS):
            try:
                with transaction(self.session_factory) as session:
                    return self._decide(session, inp, person, keys, msg, day, at, cap)
            except IntegrityError:
                # An overlapping attempt of this message stored a key first; the next round
                # finds its rows and follows its decision.
                if attempt + 1 == CLAIM_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _decide(
        self,
        session: Session,
        inp: NotifyInput,
        person: Person,
        keys: dict[str, str],
        msg: _Rendered,
        day: str,
        at: datetime,
        cap: int,
    ) -> tuple[bool, dict[str, int | None]]:
        # Written first: on SQLite this takes the write lock before anything is read.
        self._open_count(session, person.id, day)
        taken = set(session.scalars(
            select(Notification.key).where(Notification.key.in_(list(keys.values())))))
        # A retried attempt keeps the first one's decision, so a channel still pending from it
        # is sent, not folded after the fact.
        own = session.scalars(select(Notification.status).where(
            Notification.recipient_id == person.id,
            Notification.workflow_id == inp.workflow_id,
            Notification.step_id == inp.step_id,
        )).all()
        fresh = [channel for channel, key in keys.items() if key not in taken]
        if own:
            fold = all(status == "digest" for status in own)
        else:  # nothing fresh: every key is taken already, and nothing is sent or counted
            fold = bool(fresh) and not self._count_one(session, person.id, day, cap)
        rows: dict[str, Notification] = {
            channel: self._row(inp, keys[channel], person, channel, msg,
                               fold or self.channels.get(channel) is not None, day, at, fold)
            for channel in fresh
        }
        session.add_all(rows.values())
        session.flush()
        claims: dict[str, int | None] = dict.fromkeys(keys)
        claims.update({channel: row.id for channel, row in rows.items()})
        return fold, claims

    def _open_count(self, session: Session, recipient_id: str, day: str) -> None:
        """Creates the recipient's counter for `day` unless it exists, starting from the
        messages stored for that day before it (sent before this worker kept counters)."""
        stored = select(func.count()).select_from(
            select(Notification.workflow_id, Notification.step_id).where(
                Notification.recipient_id == recipient_id,
                Notification.local_date == day,
                Notification.status != "digest",
            ).distinct().subquery()
        ).scalar_subquery()
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(NotificationCount)
            .values(recipient_id=recipient_id, local_date=day, sent=stored)
            .on_conflict_do_nothing(index_elements=["recipient_id", "local_date"])
        )

    def _count_one(self, session: Session, recipient_id: str, day: str, cap: int) -> bool:
        """Counts a message if fewer than `cap` were sent that day; False if it is over.

        The conditional UPDATE holds the counter's row (on PostgreSQL) until the transaction
        ends: a concurrent delivery to this recipient waits and then sees the new count, while
        other recipients' rows are untouched.
        """
        counted = session.scalar(
            update(NotificationCount)
            .where(NotificationCount.recipient_id == recipient_id,
                   NotificationCount.local_date == day,
                   NotificationCount.sent < cap)
            .values(sent=NotificationCount.sent + 1)
            .returning(NotificationCount.sent)
            .execution_options(synchronize_session=False)
        )
        return counted is not None

    def _folded(self, inp: NotifyInput, person: Person, channel: str,
                claims: dict[str, int | None] | None, period: str = "") -> Delivery:
        """A message stored for the recipient's digest instead of being sent."""
        nid = (claims or {}).get(channel)
        status = "digest"
        if nid is None:  # a retried attempt decided already, or another firing (`once_per`)
            nid, _, owner = self._existing(delivery_key(inp, person.id, channel, period))
            status = "duplicate" if owner in (None, inp.workflow_id) else "repeated"
        return Delivery(recipient_id=person.id, channel=channel, notification_id=nid,
                        status=status)  # type: ignore[arg-type]

    def _existing(self, key: str) -> tuple[int, str, str | None]:
        """(id, status, workflow id) of the row holding `key`."""
        with self.session_factory() as session:
            row = session.execute(
                select(Notification.id, Notification.status, Notification.workflow_id)
                .where(Notification.key == key)
            ).first()
            if row is None:
                return 0, "delivered", None
            return row.id, row.status, row.workflow_id

    def _record(self, notification_id: int, status: str, error: str | None) -> None:
        with transaction(self.session_factory) as session:
            row = session.get(Notification, notification_id)
            if row is not None:
                row.status = status
                row.error = error
                row.attempts = (row.attempts or 0) + 1
                if status == "delivered":
                    row.sent_at = utcnow()


def pick_template(lookup: TemplateLookup, context: dict[str, Any]) -> str:
    """The template a table picks for the step's key in a rule context; ValueError names
    what went wrong (the key failed, or the table has no entry for its value)."""
    try:
        key = evaluate(lookup.key.source, context)
    except Exception as exc:  # noqa: BLE001 - the rule's mistake, said in its words
        raise ValueError(f"template key `{lookup.key.source}`: {exc}") from exc
    chosen = lookup.choices.get(str(key)) if key is not None else None
    if chosen is None:
        raise ValueError(f"table '{lookup.table}' has no template for {key!r}")
    return chosen


def chosen_template(inp: NotifyInput) -> str:
    assert inp.template_from is not None
    try:
        return pick_template(inp.template_from, inp.context)
    except ValueError as exc:  # not a reason to retry: the rule must change
        raise ApplicationError(f"{inp.step_id}: {exc}", type="RuleError",
                               non_retryable=True) from exc
