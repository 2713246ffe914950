"""NOTIFY and NOTIFY_TASK: render per recipient, store, then hand to the channel.

Exactly-once rests on the notification key, f"{workflow_id}/{step_id}/{recipient_id}/{channel}"
(+ "/<purpose>"), which is unique in the database. Each delivery first claims its key by
inserting the row in its own transaction; only the attempt that inserted it sends. A retried
activity (worker crash, timeout) finds the row and reports `duplicate`. The price is at most
once for an external channel when a worker dies between claiming and sending: the row then
stays `pending`, visible to an operator, rather than the employee getting the message twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from wendu.activities.people import Person, Resolution, resolve_ids, resolve_roles
from wendu.activities.render import TemplateRenderer
from wendu.channels.registry import ChannelError, ChannelRegistry, OutgoingMessage
from wendu.store.db import transaction
from wendu.store.models import Notification
from wendu.workflows.io import NOTIFY, NOTIFY_TASK, Delivery, NotifyInput, NotifyResult


def delivery_key(inp: NotifyInput, recipient_id: str, channel: str) -> str:
    key = f"{inp.workflow_id}/{inp.step_id}/{recipient_id}/{channel}"
    return f"{key}/{inp.purpose}" if inp.purpose else key


def template_context(inp: NotifyInput, recipient: Person) -> dict[str, Any]:
    # Bound variables are visible by name, as in rule expressions; the context names win.
    ctx = dict(inp.context.get("vars") or {})
    ctx.update(inp.context)
    ctx.update(inp.extra)
    ctx["recipient"] = recipient.as_recipient()
    return ctx


class Notifier:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        renderer: TemplateRenderer,
        channels: ChannelRegistry | None = None,
        *,
        task_url: str = "/tasks/{id}",
    ) -> None:
        self.session_factory = session_factory
        self.renderer = renderer
        self.channels = channels or ChannelRegistry.default()
        self.task_url = task_url

    @activity.defn(name=NOTIFY)
    async def notify(self, inp: NotifyInput) -> NotifyResult:
        return await self._deliver_all(inp)

    @activity.defn(name=NOTIFY_TASK)
    async def notify_task(self, inp: NotifyInput) -> NotifyResult:
        task = dict(inp.extra.get("task") or {})
        if task.get("id"):
            task.setdefault("url", self.task_url.format(id=task["id"]))
        return await self._deliver_all(
            inp.model_copy(update={"extra": {**inp.extra, "task": task}})
        )

    async def _deliver_all(self, inp: NotifyInput) -> NotifyResult:
        found = await asyncio.to_thread(self._resolve, inp)
        result = NotifyResult(unresolved=found.unresolved)
        for person in found.people:
            # Render before storing anything: a template error fails the step for everyone.
            locale, subject, body = self.renderer.render(
                inp.template, person.locale, template_context(inp, person)
            )
            for channel in inp.channels:
                result.deliveries.append(
                    await self._deliver(inp, person, channel, locale, subject, body)
                )
        if found.unresolved:
            activity.logger.warning(
                "notify %s/%s: unresolved %s", inp.workflow_id, inp.step_id, found.unresolved
            )
        return result

    def _resolve(self, inp: NotifyInput) -> Resolution:
        with self.session_factory() as session:
            found = resolve_roles(session, inp.subject_employee_id, inp.roles)
            direct = resolve_ids(session, inp.recipient_ids)
        seen = {p.id for p in found.people}
        found.people.extend(p for p in direct.people if p.id not in seen)
        found.unresolved.extend(direct.unresolved)
        return found

    async def _deliver(
        self, inp: NotifyInput, person: Person, channel: str, locale: str, subject: str, body: str
    ) -> Delivery:
        key = delivery_key(inp, person.id, channel)
        transport = self.channels.get(channel)
        claimed = await asyncio.to_thread(
            self._claim, inp, key, person, channel, locale, subject, body, transport is not None
        )
        if claimed is None:
            existing = await asyncio.to_thread(self._existing_id, key)
            return Delivery(
                recipient_id=person.id,
                channel=channel,
                notification_id=existing,
                status="duplicate",
            )
        if transport is None:
            return Delivery(
                recipient_id=person.id, channel=channel, notification_id=claimed, status="failed"
            )
        message = OutgoingMessage(
            claimed, key, person.id, person.name, person.email, locale, subject, body, inp.urgent
        )
        try:
            await transport.send(message)
        except ChannelError as err:
            await asyncio.to_thread(self._finish, claimed, "failed", str(err))
            return Delivery(
                recipient_id=person.id, channel=channel, notification_id=claimed, status="failed"
            )
        if channel != "inapp":
            await asyncio.to_thread(self._finish, claimed, "delivered", None)
        return Delivery(
            recipient_id=person.id, channel=channel, notification_id=claimed, status="delivered"
        )

    def _claim(
        self,
        inp: NotifyInput,
        key: str,
        person: Person,
        channel: str,
        locale: str,
        subject: str,
        body: str,
        known_channel: bool,
    ) -> int | None:
        """The new row's id, or None when the key exists (an earlier attempt delivered it)."""
        row = Notification(
            key=key,
            workflow_id=inp.workflow_id,
            step_id=inp.step_id,
            rule_id=inp.rule_id,
            recipient_id=person.id,
            subject_employee_id=inp.subject_employee_id,
            channel=channel,
            template=inp.template,
            locale=locale,
            subject=subject,
            body=body,
            # The in-app row is the delivery itself; other channels confirm after sending.
            status=("delivered" if channel == "inapp" else "pending")
            if known_channel
            else "failed",
            error=None if known_channel else f"unknown channel {channel!r}",
        )
        try:
            with transaction(self.session_factory) as session:
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def _existing_id(self, key: str) -> int:
        with self.session_factory() as session:
            return session.scalar(select(Notification.id).where(Notification.key == key)) or 0

    def _finish(self, notification_id: int, status: str, error: str | None) -> None:
        with transaction(self.session_factory) as session:
            row = session.get(Notification, notification_id)
            if row is not None:
                row.status = status
                row.error = error
