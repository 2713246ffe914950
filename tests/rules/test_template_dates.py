"""`wendu rules validate` warns, without failing, when a template prints a date as stored."""

from __future__ import annotations

from pathlib import Path

from wendu.rules.template_dates import raw_dates
from wendu.rules.templates_catalog import DEFAULT_TEMPLATES_DIR, TemplateCatalog

RULE = """\
id: due-note
version: 1
title: {zh: 跟进, en: Follow up}
owner: hr@example.com
trigger: {event: attendance.day_closed}
dedupe: "{{ employee.id }}/{{ event.day }}"
steps:
  - assign_task:
      to: manager
      title: "Check in with {{ employee.name }}"
      template: due_note
      due: 3d
"""


def test_a_raw_due_date_is_a_warning_at_its_line(tmp_path: Path) -> None:
    from wendu.rules.ruleset import load_ruleset

    rules, folder = tmp_path / "rules", tmp_path / "templates" / "due_note"
    rules.mkdir()
    folder.mkdir(parents=True)
    (rules / "due.yaml").write_text(RULE)
    (folder / "zh-CN.j2").write_text(
        "{% block subject %}请跟进{% endblock %}\n{% block body %}\n"
        "请在 {{ task.due_at }} 前完成。\n{% endblock %}\n")
    (folder / "en.j2").write_text(
        "{% block subject %}Follow up{% endblock %}\n{% block body %}\n"
        "Please do it by {{ task.due_at | local_datetime }}.\n{% endblock %}\n")
    loaded = load_ruleset([rules], templates=TemplateCatalog(tmp_path / "templates"))
    assert loaded.errors == []
    warnings = [p for p in loaded.problems if not p.is_error]
    assert [(Path(w.path).name, w.line) for w in warnings] == [("zh-CN.j2", 3)]
    assert "{{ task.due_at | local_datetime }}" in warnings[0].message


def test_formatted_dates_and_other_values_pass() -> None:
    assert raw_dates("{{ task.due_at | local_date }} {{ event.day | iso_week }}") == ()
    assert raw_dates("{{ task.title }} {{ profile.tenure_days }} {{ employee.name }}") == ()
    assert [p.message.split(" prints")[0] for p in raw_dates(
        "{% for x in y %}{{ profile.last_event_at | string }}{% endfor %}")] == [
        "{{ profile.last_event_at }}"]


def test_no_shipped_template_prints_a_raw_date() -> None:
    catalog = TemplateCatalog(DEFAULT_TEMPLATES_DIR)
    for name in catalog.names():
        for file in sorted((DEFAULT_TEMPLATES_DIR / name).glob("*.j2")):
            assert raw_dates(file.read_text(encoding="utf-8")) == (), file
