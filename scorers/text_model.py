"""The linear text model behind every text scorer: n-grams in, class probabilities and the
deciding phrases out.

Character n-grams read Chinese without a word segmenter (and survive typos); word n-grams
carry English. Each n-gram's tf-idf weight times its coefficient is its push toward a label,
so the n-grams that pushed most map back onto the text as the phrases that decided it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import MultiLabelBinarizer


def _vectorizer() -> FeatureUnion:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return FeatureUnion([
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=2,
                                 sublinear_tf=True, max_features=60000)),
        ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z']+\b")),
    ])


class TextModel:
    """A fitted vectorizer and linear classifier(s) with phrase explanations."""

    def __init__(self, classes: list[str], multilabel: bool = False, alpha: float = 1e-5,
                 seed: int = 7) -> None:
        self.classes = classes
        self.multilabel = multilabel
        self.vectorizer = _vectorizer()
        # Logistic loss fitted by SGD: the same linear model as LogisticRegression, within a
        # point of its held-out scores here, and some twenty times faster to train, which is
        # what lets a scorer without an artifact train in-process in seconds.
        base = SGDClassifier(loss="log_loss", alpha=alpha, max_iter=50, tol=1e-4,
                             random_state=seed)
        self.clf: Any = OneVsRestClassifier(base) if multilabel else base
        self.features: np.ndarray | None = None

    def fit(self, texts: list[str], labels: list[Any]) -> TextModel:
        x = self.vectorizer.fit_transform(texts)
        if self.multilabel:
            y = MultiLabelBinarizer(classes=self.classes).fit_transform(labels)
        else:
            y = np.array([self.classes.index(label) for label in labels])
        self.clf.fit(x, y)
        self.features = np.array([n.split("__", 1)[1] for n in
                                  self.vectorizer.get_feature_names_out()], dtype=object)
        return self

    def proba(self, texts: list[str]) -> np.ndarray:
        return self.clf.predict_proba(self.vectorizer.transform(texts))

    def _coef(self, k: int) -> np.ndarray:
        if self.multilabel:
            return self.clf.estimators_[k].coef_[0]
        coef = self.clf.coef_
        return coef[0] * (1 if k == 1 else -1) if coef.shape[0] == 1 else coef[k]

    def analyze(self, text: str) -> tuple[Any, np.ndarray]:
        """(feature row, class probabilities): one vectorizer pass serves both."""
        row = self.vectorizer.transform([text])
        return row, self.clf.predict_proba(row)[0]

    def phrases(self, text: str, k: int, top: int = 3, row: Any = None) -> list[tuple[str, float]]:
        """The spans of `text` whose n-grams pushed hardest toward class index k."""
        row = self.vectorizer.transform([text]) if row is None else row
        contrib = row.data * self._coef(k)[row.indices]
        order = np.argsort(-contrib)[:12]
        lower = text.lower()
        weight = np.zeros(len(text))
        for i in order:
            if contrib[i] <= 0:
                break
            gram = str(self.features[row.indices[i]]).strip()
            start = lower.find(gram)
            while gram and start >= 0:
                weight[start:start + len(gram)] += contrib[i] / len(gram)
                start = lower.find(gram, start + 1)
        spans, cur, total = [], "", 0.0
        for ch, w in zip([*text, " "], [*weight, 0.0], strict=True):
            if w > 0:
                cur, total = cur + ch, total + w
            elif cur:
                spans.append((cur.strip(), round(total, 4)))
                cur, total = "", 0.0
        # A lone character (a particle, half a word) explains nothing to a reader; a span
        # repeated counts once; spans far weaker than the strongest are noise, not reasons.
        merged: dict[str, float] = {}
        for span, w in spans:
            if len(span) > 1:
                merged[span] = round(merged.get(span, 0.0) + w, 4)
        ranked = sorted(merged.items(), key=lambda s: -s[1])
        return [s for s in ranked if s[1] >= 0.25 * ranked[0][1]][:top] if ranked else []


def phrase_factors(model: TextModel, text: str, k: int, label: str,
                    row: Any = None) -> list[dict[str, Any]]:
    return [{"name": phrase, "value": label, "contribution": w, "direction": "increases"}
            for phrase, w in model.phrases(text, k, row=row)]
