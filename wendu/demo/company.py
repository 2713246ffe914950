"""The demo company: twelve people in a Shanghai office, and a token to play with them.

The company is loaded as `employee.hired` events through the same ingestion path producers
use, so employees and profiles exist exactly as they would in production. Event ids are
fixed, so loading twice changes nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from wendu.rules.matcher import RuleIndex
from wendu.store.db import transaction
from wendu.store.models import Event

TIMEZONE = "Asia/Shanghai"
TOKEN_NAME = "demo"
TOKEN_FILE = "demo-token"
SCOPES = ["events:write", "tasks:act", "notifications:read", "rules:admin"]


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    title: str
    department: str
    manager_id: str | None
    hometown_city: str
    hired_on: date
    locale: str = "zh-CN"
    email_name: str = ""
    hrbp_id: str | None = "E1005"
    groups: list[str] = field(default_factory=list)


COMPANY: list[Person] = [
    Person("E1001", "王建国", "首席执行官 CEO", "总经办", None, "北京", date(2015, 3, 2),
           email_name="wang.jianguo", groups=["leadership"]),
    Person("E1002", "李娜", "研发经理 Engineering Manager", "研发部", "E1001", "武汉",
           date(2017, 6, 12), email_name="li.na", groups=["managers"]),
    Person("E1003", "Emily Chen", "Sales Manager", "Sales", "E1001", "Singapore",
           date(2018, 9, 3), locale="en", email_name="emily.chen", groups=["managers"]),
    Person("E1004", "张伟", "后端工程师 Backend Engineer", "研发部", "E1002", "成都",
           date(2021, 7, 5), email_name="zhang.wei"),
    Person("E1005", "刘洋", "HRBP", "人力资源部", "E1001", "西安", date(2019, 4, 15),
           email_name="liu.yang", hrbp_id="E1006", groups=["hr", "hrbp"]),
    Person("E1006", "Sarah Lin", "HR Administrator", "人力资源部", "E1001", "Kuala Lumpur",
           date(2020, 1, 6), locale="en", email_name="sarah.lin",
           groups=["hr", "hr-admins", "hr_care"]),
    Person("E1007", "陈静", "前端工程师 Frontend Engineer", "研发部", "E1002", "长沙",
           date(2022, 2, 21), email_name="chen.jing"),
    Person("E1008", "David Wu", "Data Scientist", "研发部", "E1002", "Vancouver",
           date(2023, 5, 8), locale="en", email_name="david.wu"),
    Person("E1009", "赵磊", "测试工程师 QA Engineer", "研发部", "E1002", "杭州",
           date(2020, 11, 16), email_name="zhao.lei"),
    Person("E1010", "Grace Huang", "Account Executive", "Sales", "E1003", "Hong Kong",
           date(2022, 8, 1), locale="en", email_name="grace.huang"),
    Person("E1011", "孙丽", "客户经理 Account Manager", "Sales", "E1003", "南京",
           date(2024, 3, 11), email_name="sun.li"),
    Person("E1012", "周杰", "销售代表 Sales Representative", "Sales", "E1003", "广州",
           date(2025, 8, 18), email_name="zhou.jie"),
]


# How each demo employee likes to be reached. Everyone has a WeCom account, as in a company that
# runs on WeCom; some read their e-mail first. Rules that say `preferred` follow this.
PREFERRED_CHANNELS: dict[str, list[str]] = {
    "E1001": ["wecom"], "E1002": ["wecom"], "E1003": ["email"], "E1004": ["email"],
    "E1005": ["wecom"], "E1006": ["email"], "E1007": ["wecom"], "E1008": ["email"],
    "E1009": ["wecom"], "E1010": ["email"], "E1011": ["wecom"], "E1012": ["wecom"],
}


# What the HRIS knows about pay and commute (CNY per month; a level's band median), so the
# attrition and burnout scorers read real values for the demo people instead of imputing them.
# 陈静 is paid well below her band and commutes far, as the satisfaction-drop scenario implies.
# id: (level, monthly pay, band median, one-way commute km, last promoted on)
PAY: dict[str, tuple[int, int, int, float, str]] = {
    "E1001": (9, 98000, 95000, 12.0, "2019-01-01"), "E1002": (7, 52000, 50000, 8.5, "2022-04-01"),
    "E1003": (7, 50000, 50000, 15.0, "2022-10-01"), "E1004": (5, 30000, 31000, 6.0, "2024-04-01"),
    "E1005": (6, 38000, 39000, 10.0, "2023-04-01"), "E1006": (6, 40000, 39000, 9.0, "2023-10-01"),
    "E1007": (5, 24500, 31000, 38.0, "2022-02-21"), "E1008": (5, 32000, 31000, 4.5, "2025-04-01"),
    "E1009": (4, 22000, 23500, 18.0, "2023-04-01"), "E1010": (4, 24000, 23500, 7.0, "2024-10-01"),
    "E1011": (4, 23000, 23500, 21.0, "2024-03-11"), "E1012": (3, 15500, 17500, 26.0, "2025-08-18"),
}


def wecom_userid(person: Person) -> str:
    return person.email_name.replace(".", "")


def wecom_userids() -> set[str]:
    return {wecom_userid(p) for p in COMPANY}


def hire_events() -> list[dict[str, Any]]:
    """One `employee.hired` event per person, with ids fixed so a reload is a no-op."""
    tz = ZoneInfo(TIMEZONE)
    events = []
    for p in COMPANY:
        data: dict[str, Any] = {
            "name": p.name,
            "email": f"{p.email_name}@wendu-demo.example",
            "department": p.department,
            "title": p.title,
            "hired_on": p.hired_on.isoformat(),
            "hometown_city": p.hometown_city,
            "work_city": "上海" if p.locale == "zh-CN" else "Shanghai",
            "locale": p.locale,
            "timezone": TIMEZONE,
            "groups": list(p.groups),
            "wecom_userid": wecom_userid(p),
            "preferred_channels": list(PREFERRED_CHANNELS.get(p.id, [])),
        }
        if p.id in PAY:
            level, pay, median, commute, promoted = PAY[p.id]
            data.update(level=level, monthly_pay=pay, pay_band_median=median,
                        commute_km=commute, last_promoted_on=promoted)
        if p.manager_id:
            data["manager_id"] = p.manager_id
        if p.hrbp_id:
            data["hrbp_id"] = p.hrbp_id
        events.append(
            {
                "id": f"demo-hire-{p.id}",
                "type": "employee.hired",
                "employee_id": p.id,
                "occurred_at": datetime.combine(p.hired_on, time(9, 0), tz).isoformat(),
                "data": data,
            }
        )
    return events


def overtime_week_events(
    employee_id: str, today: date, tz_name: str = TIMEZONE, days: int = 6, overtime: float = 4.0
) -> list[dict[str, Any]]:
    """`days` closed attendance days ending `today`: in at 09:00, out at 22:30 local.

    Ids depend only on the employee and the day, so posting the same week again is a no-op.
    """
    return [attendance_day(employee_id, today - timedelta(days=back), time(22, 30), overtime,
                           tz_name)
            for back in range(days - 1, -1, -1)]


def attendance_day(employee_id: str, day: date, out: time, overtime: float,
                   tz_name: str = TIMEZONE) -> dict[str, Any]:
    """One closed day, in at 09:00 and out at `out` local; its id depends on the employee and
    the day only, so a day posted again is a no-op."""
    tz = ZoneInfo(tz_name)
    clock_out = datetime.combine(day, out, tz)
    return {
        "id": f"demo-attendance-{employee_id}-{day.isoformat()}",
        "type": "attendance.day_closed",
        "employee_id": employee_id,
        "occurred_at": clock_out.isoformat(),
        "data": {
            "day": day.isoformat(),
            "clock_in": datetime.combine(day, time(9, 0), tz).isoformat(),
            "clock_out": clock_out.isoformat(),
            "overtime_hours": overtime,
            "weekend": day.weekday() >= 5,
        },
    }


@dataclass
class LoadResult:
    employees: int
    new: int


def load_company(factory: sessionmaker[Session]) -> LoadResult:
    """Ingest the hires (no rule fires: these people joined long ago)."""
    from wendu.ingest import ingest

    events = hire_events()
    ids = [e["id"] for e in events]
    with transaction(factory) as session:
        known = set(session.scalars(select(Event.id).where(Event.id.in_(ids))))
        # An empty index: these people joined long ago, no welcome is due.
        ingest(session, events, RuleIndex([]))
    return LoadResult(employees=len(events), new=len(set(ids) - known))


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def read_token(data_dir: Path) -> str | None:
    try:
        return token_path(data_dir).read_text().strip() or None
    except OSError:
        return None


def ensure_token(factory: sessionmaker[Session], data_dir: Path) -> str:
    """The demo token with every scope, created once and reused while it still works."""
    from wendu.tokens import create_token, revoke_token, verify_token

    saved = read_token(data_dir)
    with transaction(factory) as session:
        live = verify_token(session, saved) if saved else None
        if live is not None and live.name == TOKEN_NAME:
            return saved  # type: ignore[return-value]
        # The file was lost or the token revoked: its plaintext is gone, so replace it.
        revoke_token(session, TOKEN_NAME)
        token = create_token(session, TOKEN_NAME, SCOPES)
    _write_private(token_path(data_dir), token + "\n")
    return token


def _write_private(path: Path, text: str) -> None:
    """Write a secret readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


@dataclass
class Demo:
    company: LoadResult
    token: str
    token_file: Path


# Console accounts of the demo (README, "Demo accounts"): public passwords, for a local demo only.
DEMO_USERS = [("sarah", "hr_admin", "E1006", "wendu-demo-hr"),
              ("lina", "manager", "E1002", "wendu-demo-manager")]


def ensure_demo_users(factory: sessionmaker[Session]) -> None:
    """Create the demo accounts that do not exist (a changed password is left alone)."""
    from wendu.api.web_accounts import create_user
    from wendu.store.models_accounts import User

    with transaction(factory) as session:
        for username, role, employee_id, password in DEMO_USERS:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                create_user(session, username, role, password, employee_id)


# The tabular scorers the library's scans use; without a trained version they fall back to the
# baseline formulas, so the demo trains them once (a few seconds each, on generated data).
DEMO_MODELS = ("attrition", "burnout")


def ensure_models(data_dir: Path, say: Any = None) -> list[str]:
    """Train each of DEMO_MODELS that has no version in `data_dir` yet; the names trained."""
    from wendu.scorers import artifacts
    from wendu.scorers.trainers import TrainOptions, trainer

    trained = []
    for name in DEMO_MODELS:
        if artifacts.active_version(data_dir, name) is None:
            if say:
                say(f"  training the {name} model (first start, a few seconds) ...")
            trainer(name)(TrainOptions(data_dir))
            trained.append(name)
    return trained


def load(factory: sessionmaker[Session], data_dir: Path) -> Demo:
    company = load_company(factory)
    token = ensure_token(factory, data_dir)
    ensure_demo_users(factory)
    return Demo(company=company, token=token, token_file=token_path(data_dir))


# --- hints for the scenarios, which talk to a running Wendu over HTTP ----------------------


def held_hint(data_dir: Path, base_url: str) -> str:
    """Why a rule fired and nobody got a message yet."""
    return quiet_hint(data_dir, base_url) or (
        "  no message yet: see `wendu demo outbox` and the inbox in the console shortly.")


def quiet_hint(data_dir: Path, base_url: str) -> str | None:
    """Quiet hours hold the messages, if the server has them on (its own, when it runs on
    `data_dir`: wendu/running.py; else the default) and it is night now; else None."""
    from datetime import UTC

    from wendu.rules.policy import parse_quiet_hours, zone_of
    from wendu.running import server_quiet_hours
    from wendu.settings import Settings

    window = server_quiet_hours(data_dir, base_url)
    whose = "the server's" if window is not None else "the default"
    if window is None:
        window = Settings().quiet_hours
    quiet = parse_quiet_hours(window)
    local = datetime.now(UTC).astimezone(zone_of(TIMEZONE))
    if quiet is not None and quiet.contains(local.time()):
        return (f"  no message yet: it is {local:%H:%M} in {TIMEZONE}, inside {whose} quiet "
                f"hours ({window}), so they are held until quiet hours end. To see them now, "
                "start `wendu up --demo` with WENDU_QUIET_HOURS=off.")
    return None

