"""The console's backtest: a draft of a rule replayed over the stored history, beside the live
version, counted by week, sending nothing (the same `wendu.backtest` as `wendu rules backtest`).

A replay of 90 days reads every stored event, so it runs in a thread of its own, one at a time
per API process (the machine's cores serve live ingest first), and its page shows the progress
until the report is ready. Jobs live in memory: a restart forgets them, nothing is stored.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wendu.api.deps import SessionDep
from wendu.api.web_access import not_found, require_hr
from wendu.api.web_auth import ApiUser, CurrentUser, PostingUser
from wendu.api.web_dryrun import Checked, check_in_thread
from wendu.api.web_rule_checks import rule_groups
from wendu.api.web_rules import _source
from wendu.api.web_ui import page
from wendu.rules.durations import DurationError, parse_duration
from wendu.rules.errors import RuleError
from wendu.rules.plan import EventTrigger, Plan
from wendu.store.models import Rule, utcnow

log = logging.getLogger(__name__)
router = APIRouter(tags=["console"])
WINDOWS = ("30d", "90d", "180d")
KEPT = 20  # finished jobs remembered per process


@dataclass
class Job:
    id: str
    rule_id: str
    by: str
    since: str
    started_at: datetime
    total: int = 0
    done: int = 0
    finished: bool = False
    report: dict[str, Any] | None = None
    same_as_live: bool = False
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self, n: int) -> None:
        with self.lock:
            self.done += n

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return min(99, int(100 * self.done / self.total)) if self.total else 0

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "rule_id": self.rule_id, "since": self.since, "by": self.by,
                "started_at": self.started_at.isoformat(), "finished": self.finished,
                "done": self.done, "total": self.total, "percent": self.percent,
                "error": self.error, "same_as_live": self.same_as_live, "report": self.report}


def _jobs(request: Request) -> dict[str, Job]:
    state = request.app.state
    if not hasattr(state, "backtests"):
        state.backtests = {}
    return state.backtests


def _run(job: Job, app_state: Any, draft: Plan, window: timedelta) -> None:
    from wendu.backtest import backtest
    from wendu.backtest_source import StoredHistory

    try:
        end = utcnow()
        history = StoredHistory(app_state.session_factory, end)
        job.total = history.count()
        live = history.live_plan(draft.rule_id)
        versions = [("draft", draft)]
        if live is not None and live.digest != draft.digest:
            versions.insert(0, ("live", live))
        report = backtest(history.events(), versions, since=end - window, until=end,
                          employees=history.employees(), scorers=app_state.scorers,
                          progress=job.advance,
                          max_age=app_state.settings.max_event_age_seconds)
        job.report = report.as_dict(10)
        job.same_as_live = live is not None and len(versions) == 1
    except Exception as exc:  # noqa: BLE001 - shown on the job's page
        log.exception("backtest of %s failed", job.rule_id)
        job.error = f"{type(exc).__name__}: {exc}"
    finally:
        job.finished = True


def _form(request: Request, user: Any, rule_id: str, text: str, since: str = "90d",
          checked: Checked | None = None, problem: str | None = None,
          status_code: int = 200) -> HTMLResponse:
    running = next((j for j in _jobs(request).values() if not j.finished), None)
    return page(request, "backtest.html", user, status_code=status_code, rule_id=rule_id,
                text=text, since=since, windows=WINDOWS, job=None, running=running,
                problems=[str(p) for p in (checked.problems if checked else [])
                          if p.is_error], problem=problem)


@router.get("/console/rules/{rule_id}/backtest", response_class=HTMLResponse)
def backtest_page(request: Request, rule_id: str, user: CurrentUser,
                  session: SessionDep) -> HTMLResponse:
    """The draft's editor (the live text to start from) and the window to replay."""
    require_hr(user)
    rule = session.get(Rule, rule_id)
    if rule is None:
        raise not_found(f"rule {rule_id!r}")
    return _form(request, user, rule_id, _source(session, rule))


@router.post("/console/rules/{rule_id}/backtest", response_class=HTMLResponse)
async def start_backtest(request: Request, rule_id: str, user: PostingUser,
                         source: Annotated[str, Form(max_length=200_000)],
                         since: Annotated[str, Form(max_length=16)] = "90d") -> Response:
    """Check the draft, then replay it in a thread; the job's page shows the progress."""
    require_hr(user)
    try:
        window = timedelta(seconds=parse_duration(since))
    except DurationError as exc:
        return _form(request, user, rule_id, source, since, problem=f"since: {exc}",
                     status_code=422)
    checked = await check_in_thread(source, f"{rule_id}.yaml",
                                    str(request.app.state.settings.templates_path),
                                    rule_groups(request))
    draft = checked.plan
    if draft is None or not isinstance(draft.trigger, EventTrigger):
        if draft is not None:
            checked.problems.append(RuleError(f"{rule_id}.yaml", 0, 0, "a schedule rule has no "
                                              "events to replay; backtest an event rule"))
        return _form(request, user, rule_id, source, since, checked, status_code=422)
    jobs = _jobs(request)
    running = next((j for j in jobs.values() if not j.finished), None)
    if running is not None:
        return _form(request, user, rule_id, source, since, status_code=409,
                     problem=f"a backtest of {running.rule_id} is running ({running.percent}%); "
                             "start yours when it is done")
    job = Job(uuid.uuid4().hex[:12], draft.rule_id, user.username, since, utcnow())
    for old in sorted((j for j in jobs.values() if j.finished), key=lambda j: j.started_at,
                      reverse=True)[KEPT - 1:]:
        jobs.pop(old.id, None)
    jobs[job.id] = job
    threading.Thread(target=_run, args=(job, request.app.state, draft, window),
                     name=f"wendu-backtest-{job.id}", daemon=True).start()
    return RedirectResponse(f"/console/rules/{draft.rule_id}/backtest/{job.id}", status_code=303)


def _job(request: Request, job_id: str) -> Job:
    job = _jobs(request).get(job_id)
    if job is None:
        raise not_found(f"backtest {job_id!r} (jobs are kept in memory until a restart)")
    return job


@router.get("/console/rules/{rule_id}/backtest/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, rule_id: str, job_id: str, user: CurrentUser) -> HTMLResponse:
    require_hr(user)
    job = _job(request, job_id)
    response = page(request, "backtest.html", user, rule_id=job.rule_id, job=job,
                    weeks=_weeks(job.report), text=None, running=None, problems=[],
                    problem=None)
    if not job.finished:
        response.headers["Refresh"] = "1"  # the progress, until the report is there
    return response


@router.get("/console/api/backtests/{job_id}")
def job_json(request: Request, job_id: str, user: ApiUser) -> dict[str, Any]:
    require_hr(user)
    return _job(request, job_id).public()


def _weeks(report: dict[str, Any] | None) -> list[tuple[str, list[int]]]:
    """(week, count per version) rows, the weeks any version fired in."""
    if not report:
        return []
    versions = report["versions"]
    weeks = sorted({w for v in versions for w in v["by_week"]})
    return [(w, [v["by_week"].get(w, 0) for v in versions]) for w in weeks]
