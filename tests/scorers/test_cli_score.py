"""`wendu score NAME --input FILE.jsonl`: bulk scoring with line-numbered errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from wendu.cli.main import app

LINES = [
    '{"id": "m1", "text": "我想把社保转到杭州，需要什么手续？"}',
    '{"id": "m2", "text": "can you send me the slides for tomorrow\'s standup?"}',
    '{"id": "m3", "text": ',
    '{"id": "m4", "message": "no text field"}',
    "",
    '{"id": "m5", "text": "公积金提取", "channel": "search"}',
]


def _run(args, tmp_path):
    runner = CliRunner()
    return runner.invoke(app, [*args, "--data-dir", str(tmp_path / "home")])


def test_score_intent_writes_results_and_reports_bad_lines(tmp_path, monkeypatch):
    monkeypatch.delenv("WENDU_INTENTS_FILE", raising=False)
    src, dst = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(LINES) + "\n", "utf-8")
    result = _run(["score", "intent", "--input", str(src), "--output", str(dst)], tmp_path)
    assert result.exit_code == 1  # some lines were skipped
    assert f"{src}:3: not valid JSON" in result.stderr
    assert f"{src}:4: field 'text' is missing" in result.stderr
    assert "Traceback" not in result.output
    rows = [json.loads(line) for line in dst.read_text("utf-8").splitlines()]
    assert [(r["id"], r["intent"]) for r in rows] == [
        ("m1", "social_insurance_transfer"), ("m2", "none"), ("m5", "housing_fund_withdrawal")]
    assert rows[2]["channel"] == "search" and 0 < rows[2]["confidence"] <= 1
    assert any("公积金" in p for p in rows[2]["phrases"])


def test_score_sentiment_and_topics_to_stdout(tmp_path):
    src = tmp_path / "fb.jsonl"
    src.write_text(json.dumps({"text": "这周天天加班到十点，真的撑不住了"}, ensure_ascii=False)
                   + "\n" + json.dumps({"text": "my manager is kind and really supportive"})
                   + "\n", "utf-8")
    tone = _run(["score", "sentiment", "--input", str(src)], tmp_path)
    assert tone.exit_code == 0, tone.output
    rows = [json.loads(line) for line in tone.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["negative", "positive"]
    assert rows[0]["score"] < 0 < rows[1]["score"]
    about = _run(["score", "topics", "--input", str(src)], tmp_path)
    rows = [json.loads(line) for line in about.stdout.splitlines()]
    assert rows[0]["topics"][0]["topic"] in {"workload", "work_life_balance"}
    assert rows[1]["topics"][0]["topic"] == "manager"


def test_profile_records_and_unknown_scorers(tmp_path):
    src = tmp_path / "people.jsonl"
    src.write_text(json.dumps({"employee_id": "E9", "performance_last": {"communication": 2.0},
                               "performance_weakest": "communication"}) + "\n", "utf-8")
    result = _run(["score", "course_recommendation", "--input", str(src)], tmp_path)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert row["employee_id"] == "E9" and row["label"].startswith("C") and row["factors"]
    wrong = _run(["score", "mood", "--input", str(src)], tmp_path)
    assert wrong.exit_code == 1 and "unknown scorer 'mood'" in wrong.output


def test_a_broken_hr_intents_file_is_one_clear_line(tmp_path, monkeypatch):
    bad = tmp_path / "intents.yaml"
    bad.write_text("intents:\n  visa:\n    examples: [only one]\n", "utf-8")
    monkeypatch.setenv("WENDU_INTENTS_FILE", str(bad))
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "公积金提取"}\n', "utf-8")
    result = _run(["score", "intent", "--input", str(src)], tmp_path)
    assert result.exit_code == 1
    assert f"{bad}:3: intents.visa.examples: a new intent needs at least 3" in result.stderr
    assert "Traceback" not in result.output
