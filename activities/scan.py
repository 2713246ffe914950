"""SCAN_SCHEDULE: a schedule rule fired; evaluate it for every active employee and fire matches.

Each employee's facts are derived from the stored state as of the scan's fire time, not read
from the row (which dates from their latest event): a quiet employee's tenure still grows and
their old busy week leaves the 7-day window (ARCHITECTURE decision 9).

Employees are scanned in pages by id; each page's firings are committed, then started, then
the activity heartbeats the last id, so a retried attempt resumes after the last page done
(and re-doing a page is harmless: firings are unique per rule and dedupe key).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from wendu.decisions import fire_for_schedule
from wendu.firing import start_firings
from wendu.ingest import employee_dict
from wendu.rules.plan import Plan
from wendu.rulestore import load_plan
from wendu.store.models import Employee, Profile, Rule
from wendu.store.profile import derive
from wendu.workflows.io import SCAN_SCHEDULE, ScanInput

PAGE = 500


class ScanActivities:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        client: Client,
        task_queue: str,
        *,
        page_size: int = PAGE,
    ) -> None:
        self.session_factory = session_factory
        self.client = client
        self.task_queue = task_queue
        self.page_size = page_size

    @activity.defn(name=SCAN_SCHEDULE)
    async def scan_schedule(self, inp: ScanInput) -> dict[str, Any]:
        info = activity.info()
        # The first attempt's scheduled time: every retry computes the same dedupe keys.
        fire_time = getattr(inp, "fire_time", None) or info.scheduled_time
        if isinstance(fire_time, str):
            fire_time = datetime.fromisoformat(fire_time)
        plan, enabled = await asyncio.to_thread(self._plan, inp)
        if plan is None:
            raise ApplicationError(
                f"rule {inp.rule_id} has no stored version {inp.digest}", non_retryable=True
            )
        totals: dict[str, Any] = {
            "rule_id": inp.rule_id,
            "employees": 0,
            "fired": 0,
            "already_fired": 0,
            "errors": [],
            "skipped": not enabled,
        }
        if not enabled:
            return totals  # disabled after the schedule started this scan
        details = info.heartbeat_details
        after: str = details[0] if details else ""
        if details and len(details) > 1 and isinstance(details[1], dict):
            totals.update(details[1])
        while True:
            page = await asyncio.to_thread(self._page, after, fire_time)
            if not page:
                break
            fired, already, errors = await asyncio.to_thread(self._fire, plan, page, fire_time)
            await start_firings(
                self.client,
                self.session_factory,
                [f.firing_id for f in fired if f.firing_id],
                self.task_queue,
            )
            after = page[-1][0]["id"]
            totals["employees"] += len(page)
            totals["fired"] += len(fired)
            totals["already_fired"] += len(already)
            totals["errors"] = (totals["errors"] + errors)[:50]  # a sample is enough to act on
            activity.heartbeat(after, totals)
        return totals

    def _plan(self, inp: ScanInput) -> tuple[Plan | None, bool]:
        with self.session_factory() as session:
            rule = session.get(Rule, inp.rule_id)
            return load_plan(session, inp.rule_id, inp.digest), bool(rule and rule.enabled)

    def _page(
        self, after: str, as_of: datetime
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        with self.session_factory() as session:
            q = (
                select(Employee, Profile.state)
                .outerjoin(Profile, Profile.employee_id == Employee.id)
                .where(Employee.active.is_(True), Employee.id > after)
                .order_by(Employee.id)
                .limit(self.page_size)
            )
            out = []
            for emp, state in session.execute(q):
                employee = employee_dict(emp, emp.id)
                out.append((employee, derive(state or {}, employee, as_of)))
            return out

    def _fire(self, plan: Plan, page: list, fire_time: datetime) -> tuple:
        with self.session_factory.begin() as session:
            return fire_for_schedule(session, plan, page, fire_time)
