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

The daily cap (non-urgent rule messages per recipient and local day, the rest folded into a
digest) is decided in `daily_cap.py`; keys, contexts and links are in `notify_keys.py`.

Which channels: those the rule names. `preferred` (or no channel at all) means the recipient's
own `preferred_channels`, keeping those this worker has configured, and the in-app inbox when
none is left. Task messages go to the in-app inbox and the assignee's preferred channels, so a
manager who prefers WeCom gets the task as a card with an acknowledge button.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from wendu.activities.daily_cap import DailyCap
from wendu.activities.notify_keys import (
    DEFAULT_PUBLIC_URL,
    Contact,
    Links,
    Rendered,
    chosen_template,
    delivery_key,
    once_period,
    pick_template,
    template_context,
)
from wendu.activities.people import Person, Resolution, resolve_ids, resolve_roles
from wendu.activities.render import TemplateRenderer
from wendu.channels.registry import ChannelError, ChannelRegistry, OutgoingMessage
from wendu.preferences import Choice, category_of, choices, route
from wendu.rules.policy import local_date, parse_instant
from wendu.store.db import transaction
from wendu.store.models import Employee, Notification, Task, utcnow
from wendu.workflows.io import NOTIFY, NOTIFY_TASK, Delivery, NotifyInput, NotifyResult

# Re-exported: the console's template pick and older imports use them from here.
__all__ = ["Notifier", "chosen_template", "delivery_key", "pick_template", "template_context"]

PREFERRED = "preferred"
INAPP = "inapp"
# Task messages whose text becomes the task's own description, for the console's task page.
DESCRIBING_PURPOSES = ("assigned",)


class Notifier(DailyCap):
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        renderer: TemplateRenderer,
        channels: ChannelRegistry | None = None,
        *,
        public_url: str = DEFAULT_PUBLIC_URL,
        max_attempts: int = 10,
        daily_cap: int = 0,
    ) -> None:
        self.session_factory = session_factory
        self.renderer = renderer
        self.channels = channels or ChannelRegistry.default()
        self.links = Links(public_url)
        self.max_attempts = max_attempts
        self.daily_cap = daily_cap

    @activity.defn(name=NOTIFY)
    async def notify(self, inp: NotifyInput) -> NotifyResult:
        if inp.template_from is not None:
            inp = inp.model_copy(update={"template": chosen_template(inp), "template_from": None})
        return await self._deliver_all(inp, capped=not inp.urgent,
                                       category=inp.category or category_of(inp.template))

    @activity.defn(name=NOTIFY_TASK)
    async def notify_task(self, inp: NotifyInput) -> NotifyResult:
        """A task message; nothing when the task was finished before it went out (a reminder
        held through the night for a task completed meanwhile asks for nothing)."""
        task = dict(inp.extra.get("task") or {})
        if task.get("id"):
            if not await asyncio.to_thread(self._task_open, task["id"]):
                activity.logger.info("task %s is finished: %s not sent", task["id"], inp.purpose)
                return NotifyResult()
            task["url"] = self.links.task(task["id"])
        channels = [*inp.channels, PREFERRED]
        return await self._deliver_all(
            inp.model_copy(update={"extra": {**inp.extra, "task": task}, "channels": channels}),
            category=category_of(inp.template, task=True),
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

    async def _deliver_all(self, inp: NotifyInput, *, capped: bool = False,
                           category: str | None = None) -> NotifyResult:
        """`capped`: a non-urgent rule message, counted toward the recipient's daily cap (task
        messages are not: a task is to be acted on, so it is never folded into a digest).
        `category`: the message's, for each recipient's preferences (wendu.preferences); None
        for the digest, which carries only what they did not mute."""
        found, contacts = await asyncio.to_thread(self._resolve, inp)
        picked = await asyncio.to_thread(self._choices, found.people, category)
        usable = set(self.channels.names())
        at = parse_instant(inp.at)
        cap = self.daily_cap if inp.daily_cap is None else inp.daily_cap
        result = NotifyResult(unresolved=found.unresolved)
        final = self._final_attempt()
        retry_later: list[str] = []
        for person in found.people:
            # Render before storing anything: a template error fails the step for everyone.
            ctx = template_context(inp, person, self.links)
            locale, subject, body = self.renderer.render(inp.template, person.locale, ctx)
            rendered = Rendered(locale, subject, body)
            if inp.purpose in DESCRIBING_PURPOSES:
                await asyncio.to_thread(self._describe_task, inp, person, ctx)
            contact = contacts.get(person.id, Contact())
            today = local_date(at, contact.timezone)
            day = today.isoformat() if capped else None
            period = once_period(inp.once_per, today)
            channels = self.channels_for(inp.channels, contact)
            if category is not None:
                channels = route(channels, picked.get(person.id), category, usable)
                if not channels:
                    result.muted.append(person.id)  # not sent, and not counted toward the cap
                    continue
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

    def _describe_task(self, inp: NotifyInput, person: Person, ctx: dict[str, Any]) -> None:
        """The task's description, for its console page: the assignment message as the
        assignee reads it, without the link to the page it is shown on. Written once, while
        the task has none, so a retried or re-sent message changes nothing."""
        task = ctx.get("task") or {}
        if not task.get("id") or task.get("assignee_id") not in (None, person.id):
            return
        text = self.renderer.render(
            inp.template, person.locale, {**ctx, "task": {**task, "url": ""}})[2]
        with transaction(self.session_factory) as session:
            session.execute(update(Task).where(Task.id == task["id"], Task.body == "")
                            .values(body=text).execution_options(synchronize_session=False))

    def _choices(self, people: list[Person], category: str | None) -> dict[str, Choice]:
        if category is None or not people:
            return {}
        with self.session_factory() as session:
            return choices(session, [p.id for p in people], category)

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
        msg: Rendered,
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
        msg: Rendered,
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
        msg: Rendered,
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
        # One UPDATE, no read first: on SQLite every writer waits for this one to commit.
        values: dict[str, Any] = {"status": status, "error": error,
                                  "attempts": func.coalesce(Notification.attempts, 0) + 1}
        if status == "delivered":
            values["sent_at"] = utcnow()
        with transaction(self.session_factory) as session:
            session.execute(update(Notification).where(Notification.id == notification_id)
                            .values(values).execution_options(synchronize_session=False))
