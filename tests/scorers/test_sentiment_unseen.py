"""Sentiment on feedback written apart from the training corpora, as a user would meet it."""

from __future__ import annotations

from sklearn.metrics import f1_score

from wendu.scorers import corpora_tone, sentiment_eval
from wendu.scorers.text_model import last_clause, negated_words
from wendu.scorers.text_models import SentimentScorer


def test_the_unseen_set_is_bilingual_balanced_and_never_trained_on():
    lines = sentiment_eval.heldout_lines()
    assert 150 <= len(lines) <= 300
    by_label = {label: [t for t, lab in lines if lab == label] for _, label in lines}
    assert set(by_label) == {"negative", "neutral", "positive"}
    assert all(len(texts) >= 50 for texts in by_label.values())
    assert any(all(ord(c) < 128 for c in t) for t, _ in lines)  # English only
    assert any("不" in t for t, _ in lines) and any("not" in t.lower() for t, _ in lines)
    training = [e.text.lower() for e in corpora_tone.sentiment_examples()]
    for text, _ in lines:
        # Neither a line nor most of one is a training text (a shared "I feel" is fine).
        core = text.lower().strip("。.!！ ")
        assert not any(core in t or (t in core and len(t) >= 0.8 * len(core))
                       for t in training), text


def test_a_scorer_trained_in_process_reads_unseen_feedback_right(tmp_path):
    # No artifact in the data dir: the scorer trains from the shipped corpora, as on first use.
    scorer = SentimentScorer(tmp_path)
    lines = sentiment_eval.heldout_lines()
    results = scorer.score_texts([t for t, _ in lines], explain=False)
    truth, pred = [label for _, label in lines], [r["label"] for r in results]
    macro = f1_score(truth, pred, average="macro")
    assert macro >= 0.85
    per_class = f1_score(truth, pred, average=None, labels=["negative", "neutral", "positive"])
    assert min(per_class) >= 0.8, per_class
    unseen = scorer.card["metrics"]["unseen"]
    assert unseen["macro_f1"] == round(macro, 4) and unseen["rows"] == len(lines)
    assert set(unseen["per_class_f1"]) == {"negative", "neutral", "positive"}
    assert "heldout" in scorer.card["metrics"]  # the family split stays beside it
    # A negated complaint reads as praise, and the reason quoted is the negation itself.
    tone = scorer.score_text("Not bad at all, the new tool saves me time")
    assert tone["label"] == "positive" and "Not bad" in tone["factors"][0]["name"]


def test_tone_reads_the_clause_after_a_contrast_and_marks_english_negation():
    assert last_clause("薪资一般，但是同事很好") == "同事很好"
    assert last_clause("Good pay, but the hours are long") == "the hours are long"
    assert last_clause("不但快而且好") == "不但快而且好"  # "not only", not a contrast
    assert "neg_bad" in negated_words("It's not bad at all")
    assert "neg_happy" not in negated_words("not sure yet. I'm happy")
