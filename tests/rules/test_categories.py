"""`category:` on a notify step: what recipients may mute or redirect, checked where written."""

from __future__ import annotations

from wendu.rules.compiler import compile_text

STEP = "- notify: {to: manager, channels: [inapp], template: overtime_manager, category: %s}"


def test_a_step_names_its_category(rule):
    plan = compile_text(rule(STEP % "compliance"), "r.yaml")
    assert plan.steps[0].category == "compliance"
    plain = compile_text(rule(), "r.yaml")
    assert plain.steps[0].category is None
    assert "category" not in plain.model_dump(mode="json")["steps"][0]  # digests unchanged


def test_an_unknown_category_is_named_with_a_suggestion(rule, problems):
    assert problems(rule(STEP % "complience")) == [
        "r.yaml:9:84: error: unknown category 'complience'; did you mean 'compliance'?"]
    # Tasks are the category of task messages, never of a notify step.
    assert "unknown category 'tasks'" in problems(rule(STEP % "tasks"))[0]
