"""`once_per`: once per template, recipient, subject employee and period.

Six people writing that they think of resigning in one week are six signals for HR, not one:
the key of a `once_per` message names the person it is about.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from wendu.activities.notify import Notifier
from wendu.activities.render import TemplateRenderer
from wendu.rules.templates_catalog import DEFAULT_TEMPLATES_DIR
from wendu.store.db import transaction
from wendu.store.models import Employee, Notification
from wendu.workflows.io import NotifyInput

SIGNALLERS = [f"R{i}" for i in range(1, 7)]
WEEK_49 = "2026-12-02T10:00:00+08:00"
WEEK_50 = "2026-12-09T10:00:00+08:00"


def _signal(employee_id: str, at: str, firing: str = "1") -> NotifyInput:
    employee = {"id": employee_id, "name": f"员工{employee_id}", "department": "研发部"}
    return NotifyInput(
        workflow_id=f"rule/resignation-signal/{employee_id}/{firing}",
        step_id="steps[1]",
        rule_id="resignation-signal",
        template="resignation_signal",
        channels=["inapp"],
        roles=["hrbp", "group:hr-ops"],
        subject_employee_id=employee_id,
        context={"employee": employee,
                 "score": {"intent": {"value": 0.94, "label": "resignation"}}},
        extra={"why": "rule resignation-signal v1"},
        at=at,
        once_per="week",
    )


def _hr_rows(store) -> Counter[str]:
    with store() as session:
        rows = session.execute(select(Notification.recipient_id, Notification.status))
        return Counter(rid for rid, status in rows if status == "delivered")


async def test_n_peoples_signals_reach_hr_n_times_and_each_once_a_week(store):
    with transaction(store) as session:
        session.add_all(Employee(id=e, name=f"员工{e}", hrbp_id="H1", locale="zh-CN")
                        for e in SIGNALLERS)
    notifier = Notifier(store, TemplateRenderer(DEFAULT_TEMPLATES_DIR))
    env = ActivityEnvironment()

    for employee_id in SIGNALLERS:
        result = await env.run(notifier.notify, _signal(employee_id, WEEK_49))
        assert {d.recipient_id: d.status for d in result.deliveries} == {
            "H1": "delivered", "H2": "delivered"}
    # The HRBP and the other active member of hr-ops each heard of all six people.
    assert _hr_rows(store) == {"H1": 6, "H2": 6}

    # A second signal from the same person that week (another firing) is not news.
    again = await env.run(notifier.notify, _signal("R1", WEEK_49, firing="2"))
    assert {d.status for d in again.deliveries} == {"repeated"}
    # The next week it is.
    later = await env.run(notifier.notify, _signal("R1", WEEK_50, firing="3"))
    assert {d.status for d in later.deliveries} == {"delivered"}
    assert _hr_rows(store) == {"H1": 7, "H2": 7}

    with store() as session:
        bodies = list(session.scalars(select(Notification.body).where(
            Notification.recipient_id == "H1")))
    assert {next(e for e in SIGNALLERS if f"员工{e}（" in b) for b in bodies} == set(SIGNALLERS)


async def test_a_message_about_its_own_recipient_keeps_its_key(store, sc):
    """A guide sent to the employee who asked is keyed as it always was, so a week already
    under way when the key changed still counts."""
    from wendu.activities.notify_keys import delivery_key

    inp = _signal("E1", WEEK_49).model_copy(update={"template": "guide_payroll"})
    assert delivery_key(inp, "E1", "inapp", "2026-W49") == "once/guide_payroll/E1/inapp/2026-W49"
    assert delivery_key(inp, "H1", "inapp", "2026-W49") == (
        "once/guide_payroll/H1/inapp/2026-W49/about/E1")
