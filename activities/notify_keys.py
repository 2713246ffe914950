"""What a delivery is keyed by, what its template sees, and where its links lead.

Split from the notifier so the rules for keys and contexts read on their own: a change here
changes which messages count as the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from temporalio.exceptions import ApplicationError

from wendu.activities.people import Person
from wendu.rules.expressions import evaluate
from wendu.rules.plan import TemplateLookup
from wendu.titles import title_in
from wendu.workflows.io import NotifyInput

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Links:
    """Absolute links into the console, from `WENDU_PUBLIC_URL`: a link in a WeCom card or an
    e-mail opens outside the console, where a path alone leads nowhere. The console asks
    for a sign-in first and then returns to the page the link named."""

    public_url: str = DEFAULT_PUBLIC_URL

    @property
    def base(self) -> str:
        return self.public_url.rstrip("/")

    def task(self, task_id: str) -> str:
        return f"{self.base}/console/tasks/{task_id}"

    def inbox(self) -> str:
        return f"{self.base}/console/inbox"


def delivery_key(inp: NotifyInput, recipient_id: str, channel: str, period: str = "") -> str:
    """`period` (a `once_per` step's day, week or month): the key is the template's, so any
    firing of any rule sending that template to this person about the same employee in the
    period finds it taken.

    The employee the message is about is part of the key: HR hears once a week of each
    person's resignation signal, not once a week of whichever person came first. A message
    about its own recipient (a guide sent to the employee who asked) keeps the key it always
    had, so a period already under way is honoured across the change.
    """
    if period:
        key = f"once/{inp.template}/{recipient_id}/{channel}/{period}"
        about = inp.subject_employee_id
        return f"{key}/about/{about}" if about and about != recipient_id else key
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


def template_context(inp: NotifyInput, recipient: Person,
                     links: Links | None = None) -> dict[str, Any]:
    # Bound variables are visible by name, as in rule expressions; the context names win.
    ctx = dict(inp.context.get("vars") or {})
    ctx.update(inp.context)
    ctx.update(inp.extra)
    # `why` in the recipient's language, where the workflow worded it for Chinese too.
    why_zh = ctx.pop("why_zh", None)
    chinese = (recipient.locale or "").lower().startswith("zh")
    if why_zh and chinese:
        ctx["why"] = why_zh
    if recipient.role == "employee" and ctx.get("why"):
        # The person the rule is about reads which rule wrote, in plain words; its
        # conditions and values are for the people who act on it.
        ctx["why"] = plain_why(ctx.get("rule") or {}, chinese) or ctx["why"]
    task = ctx.get("task")
    if isinstance(task, dict) and task.get("title"):  # the title in the recipient's language
        ctx["task"] = {**task, "title": title_in(task["title"], task.get("titles"),
                                                 recipient.locale)}
    ctx["recipient"] = recipient.as_recipient()
    if links is not None:
        ctx.setdefault("inbox_url", links.inbox())
    return ctx


def plain_why(rule: dict[str, Any], chinese: bool) -> str:
    """The rule a message comes from, by its title: "「智能考勤预警」规则"."""
    titles = rule.get("title") if isinstance(rule.get("title"), dict) else {}
    title = (titles.get("zh") if chinese else titles.get("en")) or titles.get("en") or ""
    if not title:
        return ""
    return f"「{title}」规则" if chinese else f'the "{title}" rule'


@dataclass(frozen=True)
class Contact:
    wecom_userid: str | None = None
    preferred: tuple[str, ...] = ()
    timezone: str | None = None


@dataclass(frozen=True)
class Rendered:
    locale: str
    subject: str
    body: str


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
