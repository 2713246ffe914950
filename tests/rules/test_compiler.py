import pytest

from wendu.rules import plan as p
from wendu.rules.compiler import check, compile, compile_text, plan_digest
from wendu.rules.errors import RuleErrors
from wendu.rules.loader import load
from wendu.rules.templates_catalog import TemplateCatalog

BLOCKS = "{% block subject %}S{% endblock %}{% block body %}{{ recipient.name }}{% endblock %}"


def test_base_rule_compiles(rule):
    plan = compile_text(rule(), "r.yaml")
    assert plan.rule_id == "test-rule"
    assert plan.trigger == p.EventTrigger(event="attendance.day_closed")
    assert plan.when == [p.Expr(source="profile.overtime_hours_7d > 20")]
    (step,) = plan.steps
    assert isinstance(step, p.NotifyStep)
    assert (step.id, step.at) == ("steps[0]", "r.yaml:9:5")
    assert step.to == [p.Recipient(role="manager")] and step.channels == ["inapp"]
    assert plan.source == rule()


def test_unknown_event_type(rule, problems):
    text = rule(trigger="{event: attendance.dayclosed}")
    assert problems(text) == [
        "r.yaml:4:18: error: unknown event type 'attendance.dayclosed'; "
        "did you mean 'attendance.day_closed'?"
    ]


def test_schedule_trigger_checks_cron_timezone_and_forbids_event(rule, problems):
    text = rule(trigger='{schedule: "0 9 * *", timezone: Asia/Beijing}')
    assert problems(text) == [
        "r.yaml:4:21: error: '0 9 * *' has 4 fields; a schedule needs 5: minute hour "
        "day-of-month month day-of-week, e.g. \"0 9 * * MON\"",
        "r.yaml:4:42: error: unknown time zone 'Asia/Beijing'; use an IANA name like "
        "Asia/Shanghai or Europe/Berlin",
        "r.yaml:7:31: error: 'event' is not available here: a schedule rule has no triggering "
        "event; use schedule.fire_time",
    ]


def test_schedule_rule_compiles_with_schedule_names(rule):
    text = rule(trigger='{schedule: "0 9 * * MON"}',
                dedupe='"{{ employee.id }}/{{ schedule.fire_time | iso_week }}"')
    plan = compile_text(text)
    assert plan.trigger == p.ScheduleTrigger(cron="0 9 * * MON", timezone="Asia/Shanghai")


def test_roles_and_groups(rule, problems):
    text = rule('- notify: {to: [manger, "group:hr_ops"], template: overtime_manager}')
    assert problems(text, groups={"hr_ops"}) == [
        "r.yaml:9:19: error: unknown recipient 'manger'; did you mean 'manager'?"
    ]
    assert problems(text)[1] == (
        "r.yaml:9:27: error: unknown group 'hr_ops' (groups are declared in _groups.yaml of "
        "the rule set)"
    )


def test_channels_must_exist(rule, problems):
    text = rule("- notify: {to: hrbp, channels: [inap, pigeon], template: overtime_manager}")
    assert problems(text) == [
        "r.yaml:9:35: error: unknown channel 'inap'; did you mean 'inapp'?",
        "r.yaml:9:41: error: unknown channel 'pigeon'; channels: inapp, wecom, email, webhook, "
        "preferred",
    ]


def test_scorers_come_from_the_caller(rule, problems):
    text = rule("- score: burnot")
    assert problems(text) == [
        "r.yaml:9:12: error: unknown scorer 'burnot'; did you mean 'burnout'?"
    ]
    assert problems(text, scorers={"burnot"}) == []


def test_unknown_template(rule, problems):
    (msg,) = problems(rule("- notify: {to: manager, template: overtime_mangaer}"))
    assert msg.startswith(
        "r.yaml:9:37: error: unknown template 'overtime_mangaer'; did you mean 'overtime_manager'?"
    )


def test_durations_must_be_valid_and_positive(rule, problems):
    text = rule("""
        - wait: 2 days
        - wait: 0s
        - wait_for: {event: training.completed, timeout: P1M}
        """)
    assert problems(text) == [
        "r.yaml:9:11: error: '2 days' is not a duration; write it like 90s, 30m, 2h, 1d, 1w, "
        "1d12h or ISO-8601 P2D, PT4H",
        "r.yaml:10:11: error: '0s' must be longer than zero",
        "r.yaml:11:52: error: 'P1M': years and months vary in length; use days (e.g. P30D)",
    ]


def test_reminders_must_come_before_the_due_time(rule, problems):
    text = rule("""
        - assign_task:
            to: manager
            title: Check in
            due: 2d
            reminders: [1d, 2d]
        """)
    assert problems(text) == [
        "r.yaml:13:23: error: reminder '2d' is not shorter than the due time '2d'; reminders "
        "are sent that long before it"
    ]


def test_wait_for_event_and_match_scope(rule, problems):
    ok = rule("""
        - wait_for:
            event: training.completed
            match: "event.course_id == 'c1' and employee.id == event.employee_id"
            timeout: 14d
        """)
    assert problems(ok) == []
    bad = rule("""
        - wait_for:
            event: training.complete
            timeout: 14d
        - wait_for:
            event: training.completed
            match: "event.day == 'x'"
            timeout: 14d
        """)
    assert problems(bad) == [
        "r.yaml:10:14: error: unknown event type 'training.complete'; "
        "did you mean 'training.completed'?",
        "r.yaml:14:21: error: event (training.completed) has no field 'day'; its fields: "
        "course_id, course_name, employee_id, id, occurred_at, rating, type",
    ]


def test_bind_names_are_identifiers_and_do_not_shadow(rule, problems):
    text = rule("""
        - score: burnout
          as: event
        - score: burnout
          as: 2x
        - set: {profile: "1"}
        """)
    assert problems(text) == [
        "r.yaml:10:9: error: 'event' is a built-in name; choose another name for 'as'",
        "r.yaml:12:9: error: 'as' must be a simple name (letters, digits, _), got '2x'",
        "r.yaml:13:11: error: 'profile' is a built-in name; choose another name for a 'set' name",
    ]


def test_names_are_visible_only_after_their_step(rule, problems):
    text = rule("""
        - record: {metric: early, value: "risk.value"}
        - if: "profile.overtime_hours_7d > 30"
          then:
            - score: burnout
              as: risk
          else:
            - set: {fallback: "0.5"}
        - record: {metric: late, value: "risk.value + fallback"}
        - wait_for:
            event: training.completed
            timeout: 1d
            as: done
            on_timeout:
              - record: {metric: inside, value: "done.course_id"}
        - record: {metric: after, value: "done.course_id"}
        """)
    assert problems(text) == [
        "r.yaml:9:37: error: unknown name 'risk'; names here: employee, event, profile, rule, "
        "score",
        "r.yaml:22:44: error: unknown name 'done'; names here: employee, event, fallback, "
        "profile, risk, rule, score",
    ]


def test_score_results_have_known_fields(rule, problems):
    text = rule('- score: attrition\n  as: risk\n- if: "risk.value > 0.6 and risk.foo"\n'
                "  then: [{wait: 1d}]")
    assert problems(text) == [
        "r.yaml:11:36: error: risk has no field 'foo'; its fields: factors, label, "
        "model_version, value"
    ]


def test_task_outcome_binding_needs_wait(rule, problems):
    text = rule("""
        - assign_task: {to: manager, title: x, due: 1d, wait: false, as: outcome}
        - record: {metric: m, value: "outcome.status == 'completed'"}
        """)
    assert problems(text) == [
        "r.yaml:9:68: error: 'as' needs 'wait: true': the outcome is only known when the rule "
        "waits for the task"
    ]


def test_record_metric_names(rule, problems):
    assert problems(rule("- record: {metric: Bad-Metric}")) == [
        "r.yaml:9:22: error: a metric name uses lowercase letters, digits, '_' and '.', "
        "starting with a letter; got 'Bad-Metric'"
    ]


def test_all_problems_are_collected_in_source_order(rule, problems):
    text = rule("""
        - score: burnot
        - notify: {to: manger, template: overtime_manager}
        - wait: forever
        - record: {metric: x, value: "profile.overtime_hour_7d"}
        """, when='["profil.x > 1"]', dedupe='"{{ employee.idd }}"')
    found = problems(text)
    assert [line.split(": error: ")[0] for line in found] == [
        "r.yaml:5:9", "r.yaml:6:22", "r.yaml:8:12", "r.yaml:9:18", "r.yaml:10:11", "r.yaml:11:41"
    ]
    with pytest.raises(RuleErrors) as exc:
        compile(load(text, "r.yaml"))
    assert [str(e) for e in exc.value.problems] == found


def test_dedupe_without_employee_is_a_warning(rule):
    result = check(load(rule(dedupe='"{{ event.day | iso_week }}"'), "r.yaml"))
    assert result.plan is not None
    assert [str(x) for x in result.problems] == [
        "r.yaml:7:9: warning: the dedupe key does not use employee: the rule will fire once per "
        "key for all employees together"
    ]


def test_step_ids_are_stable_paths(rule):
    plan = compile_text(rule("""
        - wait: 1d
        - if: "true"
          then:
            - wait: 1h
            - if: "false"
              then: [{wait: 1m}]
          else: [{wait: 2m}]
        - wait_for:
            event: training.completed
            timeout: 1d
            on_timeout: [{wait: 1s}]
        """), "r.yaml")
    ids = [step.id for step in p.iter_steps(plan.steps)]
    assert ids == [
        "steps[0]", "steps[1]", "steps[1].then[0]", "steps[1].then[1]",
        "steps[1].then[1].then[0]", "steps[1].else[0]", "steps[2]", "steps[2].on_timeout[0]",
    ]
    assert plan.steps[2].on_timeout[0].at == "r.yaml:19:20"


def test_digest_is_stable_and_changes_with_the_plan(rule):
    first = compile_text(rule(), "r.yaml")
    assert len(first.digest) == 64
    assert plan_digest(first) == first.digest
    assert compile_text(rule(), "r.yaml").digest == first.digest
    changed = compile_text(rule("- notify: {to: hrbp, template: overtime_manager}"), "r.yaml")
    assert changed.digest != first.digest


def test_digest_ignores_the_source_text(rule):
    plan = compile_text(rule(), "r.yaml")
    assert plan_digest(plan.model_copy(update={"source": "other"})) == plan.digest


def test_a_comment_or_a_moved_file_is_not_a_new_version(rule):
    plan = compile_text(rule(), "r.yaml")
    moved = compile_text("# reviewed by HR ops\n\n" + rule(), "elsewhere/r.yaml")
    assert moved.steps[0].at != plan.steps[0].at
    assert moved.digest == plan.digest


def test_template_variables_are_checked_for_the_step_kind(rule, problems, tmp_path):
    for name, body in (("n", "{{ task.title }}"), ("t", "{{ task.title }}")):
        for locale in ("zh-CN", "en"):
            (tmp_path / name).mkdir(exist_ok=True)
            (tmp_path / name / f"{locale}.j2").write_text(
                f"{{% block subject %}}s{{% endblock %}}{{% block body %}}{body}{{% endblock %}}")
    for name in ("task_reminder", "task_escalated"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "zh-CN.j2").write_text(BLOCKS)
    catalog = TemplateCatalog(tmp_path)
    text = rule("""
        - notify: {to: manager, template: n}
        - assign_task: {to: manager, title: x, template: t, due: 2d, reminders: [1d]}
        """)
    found = problems(text, templates=catalog)
    assert found == [
        f"{tmp_path / 'n' / 'en.j2'}:1:54: error: template 'n' (en): 'task' is not available "
        "here: only assign_task templates get 'task'",
        f"{tmp_path / 'n' / 'zh-CN.j2'}:1:54: error: template 'n' (zh-CN): 'task' is not "
        "available here: only assign_task templates get 'task'",
        "r.yaml:10:75: error: template 'task_reminder' has no en.j2; every template needs "
        "zh-CN.j2 and en.j2",
    ]
