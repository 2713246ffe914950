"""The library compiles clean; `score ... with:` arguments; the scorecard formula."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from wendu.cli.rules import app
from wendu.rules.compiler import compile_text
from wendu.rules.errors import RuleErrors
from wendu.scorers.scorecard import ScorecardScorer, TrainingProgressScorer

LIBRARY = Path(__file__).resolve().parents[2] / "rules" / "library"
RULE = """\
id: s
version: 1
title: S
trigger: {event: performance.review}
dedupe: "{{ employee.id }}/{{ event.period }}"
steps:
  - score: scorecard
    with:
%s
    as: card
  - record: {metric: scorecard, value: card.value}
"""
WEIGHTS = {"new_hire": {"training_completion": 0.5, "customer_focus": 0.5},
           "senior": {"new_product_share": 0.6, "teamwork": 0.4}}


def test_the_whole_library_validates_clean() -> None:
    result = CliRunner().invoke(app, ["validate", str(LIBRARY)])
    assert result.exit_code == 0, result.output
    assert "9 rules OK" in result.output and "error" not in result.output


def test_with_takes_expressions_and_yaml_mappings_as_literals() -> None:
    args = """\
      stage: "'new_hire' if profile.tenure_days < 180 else 'senior'"
      weights:
        senior: {teamwork: 1, note: "it's"}"""
    plan = compile_text(RULE % args, "s.yaml")
    step = plan.steps[0]
    assert step.args["stage"].source.startswith("'new_hire' if profile.tenure_days")
    assert step.args["weights"].source == "{'senior': {'teamwork': 1, 'note': 'it\\'s'}}"


def test_a_bad_name_in_with_is_reported_at_its_line() -> None:
    with pytest.raises(RuleErrors) as raised:
        compile_text(RULE % "      stage: profile.tenure_dayz", "s.yaml")
    message = str(raised.value.problems[0])
    assert message.startswith("s.yaml:9:") and "tenure_dayz" in message


def test_rules_without_with_keep_their_compiled_shape() -> None:
    plan = compile_text(RULE.replace("    with:\n%s\n", ""), "s.yaml")
    assert "args" not in plan.model_dump(mode="json")["steps"][0]


def _card(stage: str, **profile) -> dict:
    context = {"profile": {"performance_last": {"customer_focus": 5.0, "teamwork": 3.0,
                                                "new_product_share": 1.0}, **profile},
               "args": {"stage": stage, "weights": WEIGHTS}}
    return ScorecardScorer().score(context)


def test_the_scorecard_weights_depend_on_the_stage() -> None:
    new_hire = _card("new_hire", training_completed_90d=3)
    senior = _card("senior", training_completed_90d=3)
    # new hire: 0.5 * 1 (3 courses) + 0.5 * 1 (5/5) ; senior: 0.6 * 0 + 0.4 * 0.5
    assert (new_hire["value"], senior["value"]) == (1.0, 0.2)
    assert [f["name"] for f in senior["factors"]] == ["teamwork", "new_product_share"]
    assert sum(f["contribution"] for f in senior["factors"]) == pytest.approx(senior["value"])


def test_a_metric_without_data_is_shown_missing_and_the_rest_reweighted() -> None:
    card = ScorecardScorer().score({
        "profile": {"performance_last": {"teamwork": 5.0}},
        "args": {"stage": "senior", "weights": WEIGHTS}})
    missing = next(f for f in card["factors"] if f["name"] == "new_product_share")
    assert missing["missing"] and card["value"] == 1.0


def test_a_stage_without_weights_names_the_stages_that_have_them() -> None:
    with pytest.raises(ValueError, match="stage 'intern' has no weights; .*new_hire, senior"):
        ScorecardScorer().score({"profile": {}, "args": {"stage": "intern",
                                                         "weights": WEIGHTS}})
    with pytest.raises(ValueError, match="with: weights"):
        ScorecardScorer().score({"profile": {}, "args": {}})


def test_training_progress_counts_against_the_target() -> None:
    scorer = TrainingProgressScorer()
    half = scorer.score({"profile": {"training_completed_total": 1}, "args": {"target": 2}})
    assert (half["value"], half["label"]) == (0.5, "started")
    assert scorer.score({"profile": {}, "args": {}})["label"] == "not_started"


TASK_RULE = """\
id: t
version: 1
title: T
trigger: {event: performance.review}
dedupe: "{{ employee.id }}/{{ event.period }}"
steps:
  - assign_task:
      to: employee
      title: Take a course
      due: 30d
      wait: false
      done_when: {event: %s, match: "%s"}
"""


def test_done_when_is_checked_like_wait_for() -> None:
    plan = compile_text(TASK_RULE % ("training.completed", "event.course_id == 'C101'"), "t.yaml")
    assert plan.steps[0].done_when.event == "training.completed"
    with pytest.raises(RuleErrors) as raised:
        compile_text(TASK_RULE % ("training.complete", "event.course_id == 'C101'"), "t.yaml")
    first = str(raised.value.problems[0])
    assert first.startswith("t.yaml:12:26:") and "training.completed" in first  # suggested
    with pytest.raises(RuleErrors) as raised:
        compile_text(TASK_RULE % ("training.completed", "event.cours_id == 'C1'"), "t.yaml")
    assert "cours_id" in str(raised.value.problems[0])


NOTIFY_RULE = """\
id: n
version: 1
title: N
trigger: {event: chat.message}
dedupe: "{{ employee.id }}/{{ event.id }}"
steps:
  - set: {service_url: "'https://hr.example.com/service'"}
  - score: intent
    as: intent
  - notify: {to: employee, template: guide_payroll, once_per: week, as: guide}
  - record: {metric: guides_pushed, value: "%s"}
"""


def test_a_notify_step_binds_what_it_sent() -> None:
    plan = compile_text(NOTIFY_RULE % "1 if guide.sent else 0", "n.yaml")
    assert plan.steps[2].bind == "guide" and plan.steps[2].once_per == "week"
    with pytest.raises(RuleErrors) as raised:
        compile_text(NOTIFY_RULE % "guide.delivered", "n.yaml")
    assert "delivered" in str(raised.value.problems[0])
