"""REACH and SEND_DIGESTS: when a recipient may be reached, and what their daily cap held back.

REACH is a local activity: it reads the recipients' time zones and answers, from the workflow's
own clock, who may be reached now and when quiet hours end for the others. The answer is in
history, so the workflow's durable timers replay exactly; an org or time-zone change made while
a message is held is seen when it is delivered (roles are resolved again then).

SEND_DIGESTS runs hourly (a Temporal Schedule starts DigestWorkflow). Messages over a
recipient's daily cap are stored with status `digest`; once the recipient's local day has rolled
over and they are outside quiet hours, they get ONE message listing those subjects. The digest
is keyed by recipient and the local date it is sent on: marking the folded rows with that key
and delivering under it (the notifier's exactly-once keys) means a retried or overlapping run
neither loses a folded message nor sends a digest twice. A message folded after that day's
digest went out waits for the next day's. The run also forgets the daily cap's counters of days
that are over in every time zone.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity

from wendu.activities.notify import Notifier
from wendu.activities.people import resolve_ids, resolve_roles
from wendu.rules.policy import (
    QuietHours,
    local_date,
    parse_instant,
    parse_quiet_hours,
    zone_of,
)
from wendu.rules.workdays import (
    add_working_time,
    after_holidays,
    before_working_time,
    is_public_holiday,
)
from wendu.store.db import transaction
from wendu.store.models import Employee, Notification, NotificationCount
from wendu.workflows.io import (
    REACH,
    SEND_DIGESTS,
    WORKING_TIME,
    DigestInput,
    DigestResult,
    NotifyInput,
    ReachGroup,
    ReachInput,
    ReachResult,
    WorkingTimeInput,
    WorkingTimeResult,
)

DIGEST_TEMPLATE = "digest"
DIGEST_PREFIX = "digest/"
# A local date before UTC's date this long ago is over in every zone (none is a day behind).
COUNTS_KEPT = timedelta(days=1)


def digest_key(recipient_id: str, day: str) -> str:
    return f"{DIGEST_PREFIX}{recipient_id}/{day}"


class PolicyActivities:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        notifier: Notifier,
        *,
        quiet_hours: str = "",
        work_calendar: str = "cn",
    ) -> None:
        self.session_factory = session_factory
        self.notifier = notifier
        self.quiet_hours = quiet_hours
        self.work_calendar = work_calendar

    def window(self, override: str | None) -> QuietHours | None:
        return parse_quiet_hours(self.quiet_hours if override is None else override)

    @activity.defn(name=REACH)
    async def reach(self, inp: ReachInput) -> ReachResult:
        return await asyncio.to_thread(self._reach, inp)

    def _reach(self, inp: ReachInput) -> ReachResult:
        window = self.window(inp.quiet_hours)
        now = parse_instant(inp.now)
        with self.session_factory() as session:
            people = resolve_roles(session, inp.subject_employee_id, inp.roles).people
            people += resolve_ids(session, inp.recipient_ids).people
            ids = list(dict.fromkeys(p.id for p in people))
            zones = dict(session.execute(
                select(Employee.id, Employee.timezone).where(Employee.id.in_(ids))
            ).all()) if ids else {}
        result = ReachResult()
        held: dict[datetime, list[str]] = defaultdict(list)
        for person_id in ids:
            at = window.next_reachable(now, zones.get(person_id)) if window else now
            if window:  # quiet hours hold through a public holiday, to the morning after it
                at = after_holidays(at, window.end, zone_of(zones.get(person_id)),
                                    self.work_calendar)
            if at <= now:
                result.now_ids.append(person_id)
            else:
                held[at].append(person_id)
        result.held = [ReachGroup(at=at.isoformat(), recipient_ids=held[at]) for at in sorted(held)]
        return result

    @activity.defn(name=WORKING_TIME)
    async def working_time(self, inp: WorkingTimeInput) -> WorkingTimeResult:
        """A task's due time `seconds` after `start` and its reminders before it, counted in
        working days of the site's calendar (rules.workdays)."""
        kind = self.work_calendar
        due = add_working_time(parse_instant(inp.start), inp.seconds, kind)
        return WorkingTimeResult(
            due_at=due.isoformat(),
            remind_at=[before_working_time(due, s, kind).isoformat() for s in inp.before])

    @activity.defn(name=SEND_DIGESTS)
    async def send_digests(self, inp: DigestInput) -> DigestResult:
        now = parse_instant(inp.now)
        await asyncio.to_thread(self._forget_counts, now)
        await asyncio.to_thread(self._mark, now)
        result = DigestResult()
        for key, recipient_id, channels in await asyncio.to_thread(self._owed):
            await self._deliver(key, recipient_id, channels, now)
            result.sent.append(key)
        return result

    def _forget_counts(self, now: datetime) -> None:
        """Drops the daily cap's counters of past days: no message counts toward them again."""
        before = (now - COUNTS_KEPT).date().isoformat()
        with transaction(self.session_factory) as session:
            session.execute(delete(NotificationCount).where(NotificationCount.local_date < before))

    def _mark(self, now: datetime) -> None:
        """Assigns folded messages of past local days to today's digest of each recipient."""
        window = self.window(None)
        with self.session_factory() as session:
            rows = session.execute(
                select(Notification.recipient_id, Notification.local_date, Employee.timezone)
                .join(Employee, Employee.id == Notification.recipient_id)
                .where(Notification.status == "digest", Notification.digest_key.is_(None))
            ).all()
        due: set[str] = set()
        for recipient_id, day, timezone in rows:
            local = now.astimezone(zone_of(timezone))
            # Quiet hours hold the digest through a public holiday too, as every message.
            resting = window is not None and (
                window.contains(local.time().replace(tzinfo=None))
                or is_public_holiday(local.date(), self.work_calendar))
            if day and day < local.date().isoformat() and not resting:
                due.add(recipient_id)
        for recipient_id in sorted(due):
            with transaction(self.session_factory) as session:
                timezone = session.scalar(
                    select(Employee.timezone).where(Employee.id == recipient_id))
                today = local_date(now, timezone).isoformat()
                key = digest_key(recipient_id, today)
                already = session.scalar(
                    select(Notification.id).where(Notification.workflow_id == key).limit(1))
                if already is not None:
                    continue  # today's digest went out: the rest waits for tomorrow's
                session.execute(
                    update(Notification)
                    .where(Notification.recipient_id == recipient_id,
                           Notification.status == "digest",
                           Notification.digest_key.is_(None),
                           Notification.local_date < today)
                    .values(digest_key=key)
                )

    def _owed(self) -> list[tuple[str, str, list[str]]]:
        """(digest key, recipient, channels) of each digest not yet sent on every channel."""
        with self.session_factory() as session:
            folded = session.execute(
                select(Notification.digest_key, Notification.recipient_id, Notification.channel)
                .where(Notification.status == "digest", Notification.digest_key.is_not(None))
                .order_by(Notification.digest_key, Notification.id)
            ).all()
            final = set(session.execute(
                select(Notification.workflow_id, Notification.channel).where(
                    Notification.workflow_id.startswith(DIGEST_PREFIX),
                    Notification.status.in_(("delivered", "failed")),
                )
            ).all())
        owed: dict[tuple[str, str], list[str]] = {}
        for key, recipient_id, channel in folded:
            channels = owed.setdefault((key, recipient_id), [])
            if channel not in channels:
                channels.append(channel)
        return [(key, rid, channels) for (key, rid), channels in owed.items()
                if any((key, channel) not in final for channel in channels)]

    async def _deliver(self, key: str, recipient_id: str, channels: list[str],
                       now: datetime) -> None:
        items = await asyncio.to_thread(self._items, key)
        inp = NotifyInput(
            workflow_id=key,
            step_id="digest",
            rule_id="",
            template=DIGEST_TEMPLATE,
            channels=channels,
            recipient_ids=[recipient_id],
            context={},
            extra={"items": items, "count": len(items)},
            at=now.isoformat(),
        )
        # The notifier's keys make this exactly-once; its DeliveryRetry makes Temporal retry.
        await self.notifier.deliver(inp)

    def _items(self, key: str) -> list[dict[str, str]]:
        with self.session_factory() as session:
            rows = session.execute(
                select(Notification.workflow_id, Notification.step_id, Notification.subject,
                       Notification.local_date, Notification.rule_id)
                .where(Notification.digest_key == key)
                .order_by(Notification.created_at, Notification.id)
            ).all()
        seen: dict[tuple[str, str], dict[str, str]] = {}
        for workflow_id, step_id, subject, day, rule_id in rows:
            seen.setdefault((workflow_id, step_id), {
                "subject": subject, "date": day or "", "rule": rule_id or ""})
        return list(seen.values())

