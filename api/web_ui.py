"""The console's page machinery: the Jinja2 environment for page templates and the zh-CN/en
strings every console page renders with (`page`, `t`). `console.install` mounts the pages.

Page templates live in api/web_templates/ (autoescaped HTML), apart from the message
templates in templates/ (plain text a rule sends).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wendu.api.web_accounts import SessionUser
from wendu.api.web_editor_strings import EDITOR_STRINGS
from wendu.api.web_hr_strings import HR_STRINGS
from wendu.api.web_local import FILTERS, LOCAL_STRINGS, Names, RuleTitles, reader_zone

HERE = Path(__file__).parent
LANG_COOKIE = "wendu_lang"
LANGS = ("zh-CN", "en")

templates = Jinja2Templates(directory=str(HERE / "web_templates"))
templates.env.filters.update(FILTERS)  # times, titles, names and statuses for the reader

# key -> (zh-CN, en). One table keeps the two languages side by side for translators.
STRINGS: dict[str, tuple[str, str]] = {
    "app": ("温度 Wendu", "Wendu"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "login_throttled": ("登录失败次数过多，请 {n} 分钟后再试",
                        "Too many failed sign-ins: try again in {n} minutes"),
    "rule_outcomes": ("规则成效（近 30 天）", "Rule outcomes (30 days)"),
    "metric": ("指标", "Metric"),
    "recorded": ("记录次数", "Recorded"),
    "total": ("合计", "Total"),
    "mean": ("平均", "Mean"),
    "bad_login": ("用户名或密码错误，或账号已停用", "Wrong username or password, or the account "
                  "is disabled"),
    "my_tasks": ("我的任务", "My tasks"),
    "inbox": ("收件箱", "Inbox"),
    "rules": ("规则", "Rules"),
    "dashboard": ("看板", "Dashboard"),
    "employees": ("员工", "Employees"),
    "due": ("截止", "Due"),
    "overdue": ("已逾期", "Overdue"),
    "about": ("关于", "About"),
    "why": ("原因", "Why"),
    "rule": ("规则", "Rule"),
    "matched": ("命中条件", "Matched"),
    "values": ("取值", "Values"),
    "factors": ("评分因素", "Score factors"),
    "acknowledge": ("我来处理", "I'm on it"),
    "list_open": ("待处理", "Open"),
    "list_progress": ("处理中", "In progress"),
    "list_snoozed": ("已推迟", "Snoozed"),
    "list_done": ("已完成", "Done"),
    "no_tasks_open": ("没有待处理的任务", "No open tasks"),
    "no_tasks_progress": ("没有处理中的任务", "Nothing in progress"),
    "no_tasks_snoozed": ("没有推迟的任务", "Nothing snoozed"),
    "no_tasks_done": ("近 30 天没有完成的任务", "Nothing done in the last 30 days"),
    "status_completed": ("已完成", "Completed"),
    "status_dismissed": ("已关闭", "Dismissed"),
    "status_acknowledged": ("已确认", "Acknowledged"),
    "undo": ("撤销", "Undo"),
    "you_did_acknowledge": ("你刚接手了", "You took on"),
    "you_did_complete": ("你刚完成了", "You completed"),
    "you_did_dismiss": ("你刚关闭了", "You dismissed"),
    "you_did_snooze": ("你刚推迟了", "You snoozed"),
    "hand_to": ("转交给（工号）", "Hand to (employee id)"),
    "delegate": ("转交", "Delegate"),
    "reassign": ("改派", "Reassign"),
    "complete": ("完成", "Complete"),
    "snooze": ("稍后提醒", "Snooze"),
    "dismiss": ("驳回", "Dismiss"),
    "comment": ("备注", "Comment"),
    "reason": ("原因", "Reason"),
    "hours": ("小时", "hours"),
    "no_notifications": ("没有通知", "No notifications"),
    "mark_read": ("标为已读", "Mark read"),
    "unread": ("未读", "Unread"),
    "read": ("已读", "Read"),
    "state": ("状态", "State"),
    "version": ("版本", "Version"),
    "versions": ("版本历史", "Versions"),
    "digest": ("摘要", "Digest"),
    "stored_at": ("保存时间", "Stored at"),
    "stored_by": ("保存人", "Stored by"),
    "firings": ("触发次数", "Firings"),
    "current": ("当前版本", "current"),
    "unknown": ("未知", "unknown"),
    "compare": ("版本对比", "Compare"),
    "compare_with_current": ("与当前版本对比", "Compare with current"),
    "rollback_to": ("回滚到", "Roll back to"),
    "rollback_explain": ("回滚后，下一条事件即按该版本触发；已在运行的流程仍按其启动时的版本完成。"
                         "此操作会记入审计日志。",
                         "After the rollback the next event fires this version; workflows "
                         "already running finish on the version they started with. The change "
                         "is audited."),
    "rolled_back": ("已回滚到", "Rolled back to"),
    "firings_7d": ("近7天触发", "Firings (7 days)"),
    "failed_7d": ("近7天失败", "Failed (7 days)"),
    "failed_firings": ("未能执行的触发（7天）", "Failed firings (7 days)"),
    "recent_failed": ("最近未能执行的触发", "Recent failed firings"),
    "no_failed": ("没有未能执行的触发", "No failed firings"),
    "failed_hint": ("规则已触发，但其工作流没有启动或中途失败，相关人员没有收到消息。请按原因修正"
                    "后，让事件重新发送或手动跟进。",
                    "The rule fired but its workflow never started or ended badly: the people "
                    "it was for heard nothing. Fix the cause, then have the event re-sent or "
                    "follow up by hand."),
    "when": ("时间", "When"),
    "employee": ("员工", "Employee"),
    "attempts": ("尝试次数", "Attempts"),
    "enabled": ("已启用", "Enabled"),
    "disabled": ("已停用", "Disabled"),
    "enable": ("启用", "Enable"),
    "disable": ("停用", "Disable"),
    "upload": ("上传新版本", "Upload a new version"),
    "check": ("检查", "Check"),
    "save": ("保存", "Save"),
    "dry_run": ("试运行", "Dry run"),
    "sample_event": ("示例事件（JSON）", "Sample event (JSON)"),
    "would_fire": ("会触发", "Would fire"),
    "would_not_fire": ("不会触发", "Would not fire"),
    "dedupe_key": ("去重键", "Dedupe key"),
    "would_send": ("将发送", "Would send"),
    "no_errors": ("没有错误", "No errors"),
    "problems": ("个问题（见所在行）", "problem(s), shown on their lines"),
    "saved": ("已保存", "Saved"),
    "profile": ("员工画像", "Employee profile"),
    "overtime": ("加班小时（每天）", "Overtime hours (per day)"),
    "satisfaction": ("满意度", "Satisfaction"),
    "scores": ("最新评分", "Latest scores"),
    "tasks": ("任务", "Tasks"),
    "notifications": ("通知", "Notifications"),
    "facts": ("画像数据", "Profile facts"),
    "no_data": ("暂无数据", "No data yet"),
    "raw_text": ("原始反馈文本（查看将被审计）", "Raw feedback text (each view is audited)"),
    "show_raw": ("查看原文", "Show raw text"),
    "hr_only": ("仅 HR 可见", "HR only"),
    "purpose": ("查看目的", "Purpose"),
    "audit_log": ("审计日志", "Audit log"),
    "audit_person": ("相关员工（工号）", "About (employee id)"),
    "audit_actor": ("操作人", "Actor"),
    "audit_action": ("操作", "Action"),
    "audit_any": ("全部", "Any"),
    "audit_filter": ("筛选", "Filter"),
    "audit_when": ("时间", "When"),
    "audit_target": ("对象", "Target"),
    "audit_detail": ("详情", "Details"),
    "audit_none": ("没有符合条件的记录", "No records match"),
    "purpose_explain": ("员工的原话只在有正当理由时查看。请写明查看目的："
                        "它会与这次查看一起记入审计日志。",
                        "An employee's own words are opened only for a reason. Say why: the "
                        "purpose is kept in the audit log with this view."),
    "purpose_complaint": ("调查员工投诉", "Looking into a complaint"),
    "purpose_risk": ("跟进离职风险", "Following up an attrition risk"),
    "purpose_request": ("员工本人要求", "The employee asked for it"),
    "sensitive_count": ("反馈/对话条数", "Feedback and chat items"),
    "firings_per_week": ("每条规则每周触发次数", "Firings per rule per week"),
    "open_tasks": ("未完成任务", "Open tasks"),
    "overdue_tasks": ("逾期任务", "Overdue tasks"),
    "median_ack": ("确认时长中位数（小时）", "Median time to acknowledge (hours)"),
    "delivery_failures": ("投递失败（7天）", "Delivery failures (7 days)"),
    "attendance_anomaly": ("考勤异常率（30天）", "Attendance anomaly rate (30 days)"),
    "training_rate": ("培训完成率（90天）", "Training completion rate (90 days)"),
    "satisfaction_trend": ("满意度趋势（每周平均）", "Satisfaction trend (weekly mean)"),
    "language": ("English", "中文"),
    "no_access": ("无权访问", "Not allowed"),
    "not_found": ("不存在", "Not found"),
    "back": ("返回", "Back"),
    "impact": ("规则效果（触发前后各 4 周）", "Impact per rule (4 weeks before and after)"),
    "impact_people": ("人数", "People"),
    "impact_before": ("触发前 4 周", "4 weeks before"),
    "impact_after": ("触发后 4 周", "4 weeks after"),
    "impact_change": ("变化", "Change"),
    "impact_held_out": ("对照组：人数 / 变化", "Held out: people / change"),
    "impact_effect": ("效果（95% 置信区间）", "Effect (95% confidence interval)"),
    "impact_too_few": ("对照组人数尚少", "too few held out yet"),
    "impact_kind_observation": ("观察", "observation"),
    "impact_kind_experiment": ("对照实验", "experiment"),
    "impact_observation": (
        "“观察”只是前后对比，不是对照实验：规则往往在数值最高时触发，之后的部分回落本来就会"
        "发生，季节、项目和管理者也在变化。要衡量规则本身的效果，请在规则中加上 "
        "holdout: 10%，随机留出一部分人不执行动作作为对照组。",
        "An observation compares before with after; it is not a controlled experiment. Rules "
        "fire when numbers peak, so part of any fall would have happened anyway, and seasons, "
        "projects and managers change too. To measure what the rule itself does, add "
        "holdout: 10% to it: a random share of the people it matches then get nothing and "
        "serve as the control group."),
    "impact_experiment": (
        "“对照实验”：规则对随机留出的对照组不执行任何动作（他们不会知道）。效果 = 执行组的变化"
        "减去对照组的变化；区间不含 0 时，效果不太可能是偶然。",
        "Experiment: the rule did nothing for a random held-out share of the people it matched "
        "(they are never told). Effect = the acted-on people's change minus the held-out "
        "people's; an interval that excludes 0 is unlikely to be chance."),
    "impact_no_data": ("无前后数据的人数", "without data on both sides"),
    "metric_attendance.day_closed.overtime_hours": ("每天加班小时", "Overtime hours per day"),
    "metric_survey.response.satisfaction": ("调查满意度（1-5）", "Survey satisfaction (1-5)"),
    "backtest": ("回测", "Backtest"),
    "backtest_explain": ("用历史事件重放规则草稿，与当前生效版本并排对比：会触发多少次、"
                         "涉及多少人、发出多少消息和任务，按周统计。不会发送任何消息，也不会保存。",
                         "Replays the stored events through a draft of the rule, beside the live "
                         "version: how often it would have fired, for how many people, which "
                         "messages and tasks, by week. Nothing is sent or saved."),
    "window": ("时间范围", "Window"),
    "replaying": ("正在重放事件", "Replaying events"),
    "backtest_failed": ("回测失败", "The backtest failed"),
    "events_in_window": ("条触发事件在时间范围内", "events of its trigger in the window"),
    "events_replayed": ("条事件已重放", "replayed"),
    "nothing_sent": ("未发送任何消息。", "Nothing was sent."),
    "same_as_live": ("草稿与当前生效版本相同。", "The draft is the version live now."),
    "bt_live": ("当前版本", "live"),
    "bt_draft": ("草稿", "draft"),
    "bt_fired": ("会触发", "Would fire"),
    "bt_repeats": ("重复（同一去重键）", "Repeats (same dedupe key)"),
    "bt_held_out": ("对照组（holdout）", "Held out (holdout)"),
    "bt_cooldown": ("冷却期内（近期已提醒过）", "Cooldown (told about them recently)"),
    "bt_messages": ("消息", "Messages"),
    "bt_tasks": ("任务", "Tasks opened"),
    "bt_by_week": ("每周触发次数", "Fired by week"),
    "bt_week": ("周", "Week"),
    "bt_never": ("时间范围内一次也不会触发", "It would not have fired in the window"),
    "bt_most_messaged": ("收到消息最多的人", "Most-messaged people"),
    "bt_again": ("再回测一次", "Backtest again"),
    "bt_running": ("已有回测在运行", "A backtest is running"),
    "bt_run": ("开始回测", "Run the backtest"),
    "better_lower": ("越低越好", "lower is better"),
    "better_higher": ("越高越好", "higher is better"),
    "recent_decisions": ("最近的判定", "Recent decisions"),
    "decisions_hint": ("规则每次命中都会记录：是否触发、未触发的原因、规则版本、"
                       "条件读取的数据和评分。员工写下的原文不会被记录。",
                       "Every match of the rule is recorded: whether it fired or why not, the "
                       "rule version, the data its conditions read and the scores. What people "
                       "wrote is never recorded."),
    "no_decisions": ("还没有判定", "No decisions yet"),
    "result": ("结果", "Result"),
    "result_fired": ("已触发", "fired"),
    "result_deduped": ("重复（已触发过）", "deduped (fired before)"),
    "result_held_out": ("对照组（未执行）", "held out (nothing sent)"),
    "result_cooldown": ("冷却期内", "cooldown"),
    "dry_run_held_out": ("此人在本规则的对照组（holdout）中：实际运行时记录为 held_out，"
                         "不向任何人发送消息。以下是不在对照组时会发送的内容。",
                         "This person is in the rule's holdout: live, the firing is recorded as "
                         "held_out and nothing is sent to anyone. Below is what would be sent "
                         "otherwise."),
    "preferences": ("通知偏好", "Notification preferences"),
    "pref_explain": ("选择您想收到哪些消息、在哪个渠道收到。待办任务和合规消息是关键消息，不能"
                     "静音，但可以选择渠道。",
                     "Choose which messages you get and where. Task and compliance messages are "
                     "critical: they cannot be muted, but you can pick their channel."),
    "pref_category": ("消息类别", "Category"),
    "pref_muted": ("静音", "Mute"),
    "pref_channel": ("接收渠道", "Channel"),
    "pref_rule_channels": ("按规则设置", "As the rule says"),
    "pref_critical": ("关键消息，不能静音", "Critical: cannot be muted"),
    "pref_saved": ("已保存", "Saved"),
    "channel_inapp": ("站内收件箱", "In-app inbox"),
    "channel_wecom": ("企业微信", "WeCom"),
    "channel_email": ("电子邮件", "E-mail"),
    "channel_webhook": ("Webhook", "Webhook"),
}
STRINGS.update(EDITOR_STRINGS)
STRINGS.update(HR_STRINGS)
STRINGS.update(LOCAL_STRINGS)


def t(key: str, lang: str) -> str:
    pair = STRINGS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def lang_of(request: Request, user: SessionUser | None) -> str:
    """The language switch's cookie, else the user's employee locale, else Chinese."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGS:
        return chosen  # type: ignore[return-value]
    return user.locale if user is not None else "zh-CN"


def page(request: Request, name: str, user: SessionUser | None, status_code: int = 200,
         **ctx: Any) -> HTMLResponse:
    lang = lang_of(request, user)
    factory = getattr(request.app.state, "session_factory", None)
    if factory is not None:
        ctx["names"] = Names(factory, ctx.get("names"))
        ctx.setdefault("rule_titles", RuleTitles(factory))
    return templates.TemplateResponse(
        request, name,
        {"user": user, "lang": lang, "t": lambda key: t(key, lang),
         "reader_zone": reader_zone(user), **ctx},
        status_code=status_code,
    )
