"""The linear text model behind every text scorer: n-grams in, class probabilities and the
deciding phrases out.

Character n-grams read Chinese without a word segmenter (and survive typos); word n-grams
carry English. Each n-gram's tf-idf weight times its coefficient is its push toward a label,
so the n-grams that pushed most map back onto the text as the phrases that decided it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import sklearn
from scipy import sparse
from sklearn.linear_model import SGDClassifier
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion
from sklearn.preprocessing import MultiLabelBinarizer

_WORD = re.compile(r"[a-z][a-z']+|[.,;:!?，。；！？]")
_NEGATOR = re.compile(r"^(not|no|never|nobody|nothing|none|hardly|cannot|without)$|n't$")
_SCOPE_END = re.compile(r"^([.,;:!?，。；！？]|but|though|however|yet)$")
_CONTRAST = re.compile(r"[，,。；;！!]\s*(?:但是|但|不过|可是|然而)"
                       r"|\b(?:but|however|yet)\b|, though\b", re.IGNORECASE)


def last_clause(text: str) -> str:
    """What follows the last contrast ("A，但是B" -> "B"): the part that sets the tone."""
    parts = _CONTRAST.split(text.lower())
    tail = parts[-1].strip(" ，,。.")
    return tail if len(parts) > 1 and len(tail) > 2 else text.lower()


def negated_words(text: str) -> list[str]:
    """English words and word pairs, each word after a negator marked until the clause ends.

    "isn't great" and "not bad at all" then carry "neg_great" and "neg_bad", so the words
    keep their own pull everywhere else instead of averaging over both polarities.
    """
    words, negated = [], False
    for tok in _WORD.findall(last_clause(text)):
        if _SCOPE_END.match(tok):
            negated = False
            continue
        words.append("neg_" + tok if negated else tok)
        if _NEGATOR.search(tok):
            negated = True
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def _vectorizer(tone: bool = False) -> FeatureUnion:
    """N-grams; for tone, read from the last contrast on, with English negation marked."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = (TfidfVectorizer(analyzer=negated_words, sublinear_tf=True) if tone else
             TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                             token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z']+\b"))
    return FeatureUnion([
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=2,
                                 sublinear_tf=True, max_features=60000,
                                 preprocessor=last_clause if tone else None)),
        ("word", words),
    ])


def checked_once() -> Any:
    """scikit-learn's checks of its arguments (parameter types, finite values), skipped where
    the model calls its own parts with what it made itself, a list of texts or the tf-idf
    rows of them: for the one text of a chat message they took a quarter of its scoring time."""
    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


class TextModel:
    """A fitted vectorizer and linear classifier(s) with phrase explanations."""

    def __init__(self, classes: list[str], multilabel: bool = False, alpha: float = 1e-5,
                 seed: int = 7, tone: bool = False) -> None:
        self.classes = classes
        self.multilabel = multilabel
        self.vectorizer = _vectorizer(tone)
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

    def transform(self, texts: list[str]) -> Any:
        """The feature rows of `texts`, as the vectorizer's own `transform` gives them.

        FeatureUnion.transform runs its parts through joblib and its output wrappers on every
        call: for the one text of a chat message 1.3 ms of CPU where the parts take 1.0 (0.65
        with `checked_once`). The parts are called here, and stacked the same way."""
        union = self.vectorizer
        if union.transformer_weights is not None:
            return union.transform(texts)
        with checked_once():
            parts = [part.transform(texts) for _, part in union.transformer_list]
        return sparse.hstack(parts).tocsr()

    def predict_proba(self, rows: Any) -> np.ndarray:
        """Class probabilities of feature rows this model made (see `checked_once`)."""
        with checked_once():
            return self.clf.predict_proba(rows)

    def proba(self, texts: list[str]) -> np.ndarray:
        return self.predict_proba(self.transform(texts))

    def _coef(self, k: int) -> np.ndarray:
        if self.multilabel:
            return self.clf.estimators_[k].coef_[0]
        coef = self.clf.coef_
        return coef[0] * (1 if k == 1 else -1) if coef.shape[0] == 1 else coef[k]

    def analyze(self, text: str) -> tuple[Any, np.ndarray]:
        """(feature row, class probabilities): one vectorizer pass serves both."""
        row = self.transform([text])
        return row, self.predict_proba(row)[0]

    def phrases(self, text: str, k: int, top: int = 3, row: Any = None) -> list[tuple[str, float]]:
        """The spans of `text` whose n-grams pushed hardest toward class index k."""
        row = self.transform([text]) if row is None else row
        contrib = row.data * self._coef(k)[row.indices]
        order = np.argsort(-contrib)[:12]
        lower = text.lower()
        weight = np.zeros(len(text))
        for i in order:
            if contrib[i] <= 0:
                break
            # A negation-marked word ("neg_bad") is found in the text as the word it marks.
            gram = str(self.features[row.indices[i]]).strip().replace("neg_", "")
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
