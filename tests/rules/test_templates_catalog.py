from pathlib import Path

import pytest

from wendu.rules.compiler import EMPLOYEE, PROFILE, RULE
from wendu.rules.expressions import Scope
from wendu.rules.templates_catalog import (
    DEFAULT_TEMPLATES_DIR,
    TASK_ASSIGNED,
    TASK_ESCALATED,
    TASK_REMINDER,
    TemplateCatalog,
    locale_for,
    notify_scope,
    task_message_scope,
    task_scope,
)

RULE_SCOPE = Scope({"employee": EMPLOYEE, "profile": PROFILE, "rule": RULE, "event": None})
BLOCKS = "{% block subject %}S{% endblock %}{% block body %}B{% endblock %}"


def write(root: Path, name: str, locale: str, text: str) -> None:
    (root / name).mkdir(parents=True, exist_ok=True)
    (root / name / f"{locale}.j2").write_text(text, encoding="utf-8")


def test_builtin_engine_templates_exist_in_both_locales():
    names = TemplateCatalog().names()
    for name in (TASK_ASSIGNED, TASK_REMINDER, TASK_ESCALATED):
        assert name in names
        for locale in ("zh-CN", "en"):
            assert (DEFAULT_TEMPLATES_DIR / name / f"{locale}.j2").is_file()


def test_engine_templates_use_only_what_they_are_given():
    catalog = TemplateCatalog()
    assert catalog.check(TASK_ASSIGNED, task_scope(RULE_SCOPE)) == []
    assert catalog.check(TASK_REMINDER, task_message_scope(RULE_SCOPE)) == []
    assert catalog.check(TASK_ESCALATED, task_message_scope(RULE_SCOPE)) == []


def test_missing_locale_is_reported(tmp_path):
    write(tmp_path, "hello", "zh-CN", BLOCKS)
    (problem,) = TemplateCatalog(tmp_path).check("hello", RULE_SCOPE)
    assert problem.line == 0
    assert problem.message == (
        "template 'hello' has no en.j2; every template needs zh-CN.j2 and en.j2"
    )


def test_unknown_variable_points_into_the_template_file(tmp_path):
    write(tmp_path, "hello", "zh-CN", BLOCKS)
    write(tmp_path, "hello", "en",
          "{% block subject %}Hi{% endblock %}\n{% block body %}\n{{ recipent.name }}\n"
          "{{ task.title }}{% endblock %}")
    problems = [str(p) for p in TemplateCatalog(tmp_path).check("hello", notify_scope(RULE_SCOPE))]
    en = tmp_path / "hello" / "en.j2"
    assert problems == [
        f"{en}:3:4: error: template 'hello' (en): unknown name 'recipent'; "
        "did you mean 'recipient'?",
        f"{en}:4:4: error: template 'hello' (en): 'task' is not available here: "
        "only assign_task templates get 'task'",
    ]


def test_reminder_templates_do_not_get_the_event(tmp_path):
    write(tmp_path, "r", "zh-CN", BLOCKS)
    write(tmp_path, "r", "en", "{% block subject %}{{ event.day }}{% endblock %}"
                               "{% block body %}{{ why }}{% endblock %}")
    messages = [p.message for p in TemplateCatalog(tmp_path).check("r", task_message_scope(
        RULE_SCOPE))]
    assert len(messages) == 2
    assert all("get only task, recipient, rule and employee" in m for m in messages)


def test_blocks_are_required_and_syntax_errors_located(tmp_path):
    write(tmp_path, "t", "zh-CN", "{% block subject %}S{% endblock %}")
    write(tmp_path, "t", "en", "{% block subject %}S{% endblock %}\n{% block body %}{{ x\n")
    problems = {(Path(p.path).name, p.line, p.message) for p in
                TemplateCatalog(tmp_path).check("t", RULE_SCOPE)}
    assert ("zh-CN.j2", 1, "template 't' (zh-CN): no {% block body %}...{% endblock %}") in problems
    assert any(name == "en.j2" and line == 2 and "unexpected end of template" in msg
               for name, line, msg in problems)


def test_render_picks_the_recipients_locale():
    catalog = TemplateCatalog()
    ctx = {
        "employee": {"name": "李雷"}, "rule": {"id": "r", "version": 1,
                                              "title": {"zh": "规则", "en": "Rule"}},
        "recipient": {"name": "韩梅梅", "locale": "en", "role": "manager", "id": "m"},
        "task": {"title": "Check in", "due_at": "2026-11-29T09:00", "url": None,
                 "escalation_level": 1},
    }
    en = catalog.render(TASK_REMINDER, "en-US", ctx)
    assert en.subject == 'Reminder: "Check in" is due soon'
    assert "Open it" not in en.body
    zh = catalog.render(TASK_ESCALATED, None, ctx)
    assert zh.subject == "任务升级：Check in"
    assert "规则：规则（r v1）" in zh.body


@pytest.mark.parametrize(("pref", "locale"), [("en", "en"), ("en-GB", "en"), ("zh-CN", "zh-CN"),
                                              (None, "zh-CN"), ("fr", "zh-CN")])
def test_locale_for(pref, locale):
    assert locale_for(pref) == locale
