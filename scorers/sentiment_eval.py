"""Sentiment on feedback lines written apart from the training corpora.

The template-family split in corpora.py measures phrasings held out of training, but they still
come from the same generator, so they flatter the model. sentiment_heldout.yaml holds lines
written independently (facts, negation, mixed feelings, mild complaints, zh/en/mixed); the
model never trains on them, and its card reports both figures side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sklearn.metrics import classification_report, f1_score

HELDOUT_FILE = Path(__file__).with_name("sentiment_heldout.yaml")


def heldout_lines() -> list[tuple[str, str]]:
    """(text, label) for every line of the shipped unseen set."""
    data = yaml.safe_load(HELDOUT_FILE.read_text("utf-8"))
    return [(str(text), label) for label, texts in data.items() for text in texts]


def unseen_metrics(model: Any) -> dict[str, Any]:
    """Macro-F1 and per-class F1 of a fitted sentiment TextModel on the unseen set."""
    lines = heldout_lines()
    truth = [label for _, label in lines]
    pred = [model.classes[i] for i in model.proba([t for t, _ in lines]).argmax(1)]
    report = classification_report(truth, pred, output_dict=True, zero_division=0)
    return {"rows": len(lines), "macro_f1": round(f1_score(truth, pred, average="macro"), 4),
            "per_class_f1": {c: round(report[c]["f1-score"], 4) for c in model.classes}}
