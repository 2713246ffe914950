"""Text scorers: feedback sentiment, feedback topics and the intent of a question to HR.

Character n-grams read Chinese without a word segmenter (and survive typos); word n-grams
carry English. A linear model over them is fast (well under 10 ms per text) and explains
itself exactly: each n-gram's tf-idf weight times its coefficient is its push toward a label,
and the n-grams that pushed most are mapped back onto the text as the deciding phrases.

When no trained artifact is active in the data dir, a scorer trains once in-process from the
shipped corpora (deterministic, a few seconds) instead of failing; its model_version says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from wendu.scorers import artifacts, corpora, corpora_tone, sentiment_eval

# TextModel stays importable from here: artifacts trained before it moved name this module.
from wendu.scorers.text_model import TextModel, phrase_factors
from wendu.scorers.trainers import TrainOptions

INTENT_THRESHOLD = 0.35  # below this confidence a message is treated as asking nothing of HR
TOPIC_THRESHOLD = 0.4
LIMITS = ("Trained on Wendu's generated corpora, not on real employee text: slang, sarcasm, "
          "long multi-topic essays and languages other than Chinese and English are out of scope. "
          "Explanations quote fragments of the input; show them only to those allowed to read it.")


def _text(context: dict[str, Any]) -> str:
    event = context.get("event") or {}
    text = event.get("text") if isinstance(event, dict) else None
    if text is None:
        text = context.get("text")
    if not isinstance(text, str):
        raise ValueError("this scorer reads event.text, and the event has no text")
    return text


# --- training --------------------------------------------------------------------------------


def _card(task: str, examples: list[corpora.Example], metrics: dict[str, Any], use: str,
          extra_hash: str = "") -> dict[str, Any]:
    train, held = corpora.split(examples)
    return {
        "task": task,
        "features": ["char_wb n-grams 1-4 (tf-idf)", "word n-grams 1-2 (tf-idf)"],
        "model": "linear, logistic loss (scikit-learn SGDClassifier)",
        "training_data": f"Wendu's generated corpora: {len(train)} training texts; "
                         f"{len(held)} held-out texts from template families never trained on",
        "training_data_hash": artifacts.data_hash(corpora.corpus_hash(examples), extra_hash),
        "metrics": {"heldout": metrics},
        "intended_use": use,
        "limits": LIMITS,
    }


def fit_sentiment(seed: int = 7) -> tuple[TextModel, dict[str, Any]]:
    examples = corpora_tone.sentiment_examples(seed)
    train, held = corpora.split(examples)
    model = TextModel(list(corpora.SENTIMENTS), seed=seed, tone=True).fit([e.text for e in train],
                                                           [e.label for e in train])
    pred = [model.classes[i] for i in model.proba([e.text for e in held]).argmax(1)]
    truth = [e.label for e in held]
    metrics = {"accuracy": round(accuracy_score(truth, pred), 4),
               "macro_f1": round(f1_score(truth, pred, average="macro"), 4),
               "per_class": classification_report(truth, pred, output_dict=True, zero_division=0)}
    card = _card("sentiment", examples, metrics,
                 "Tone of employee feedback (negative/neutral/positive, score in [-1, 1]) "
                 "to route follow-ups; never to judge an individual.")
    card["features"] = [*card["features"], "both read from the last contrast on (A，但是B -> B); "
                        "English words after a negator marked (not bad -> neg_bad)"]
    # Beside the family split: lines written apart from the generator, never trained on.
    card["metrics"]["unseen"] = sentiment_eval.unseen_metrics(model)
    return model, card


def fit_topics(seed: int = 7) -> tuple[TextModel, dict[str, Any]]:
    examples = corpora.feedback_examples(seed)
    train, held = corpora.split(examples)
    model = TextModel(list(corpora.TOPICS), multilabel=True, seed=seed).fit(
        [e.text for e in train], [e.topics for e in train])
    probs = model.proba([e.text for e in held])
    mlb = MultiLabelBinarizer(classes=model.classes)
    truth = mlb.fit_transform([e.topics for e in held])
    pred = (probs >= TOPIC_THRESHOLD).astype(int)
    pred[np.arange(len(held)), probs.argmax(1)] = 1
    metrics = {"macro_f1": round(f1_score(truth, pred, average="macro"), 4),
               "main_topic_accuracy": round(float(np.mean(
                   [model.classes[i] in e.topics for i, e in zip(probs.argmax(1), held,
                                                                  strict=True)])), 4),
               "per_class": classification_report(truth, pred, target_names=model.classes,
                                                  output_dict=True, zero_division=0)}
    return model, _card("topics", examples, metrics,
                        "What aspects feedback is about (multi-label), to aggregate themes per "
                        "team; not for judging individuals.")


def fit_intent(seed: int = 7, data_dir: Any = None) -> tuple[TextModel, dict[str, Any]]:
    catalog = corpora.load_intent_catalog(data_dir)
    examples = corpora.intent_examples({k: v["examples"] for k, v in catalog.items()}, seed)
    train, held = corpora.split(examples)
    classes = sorted({e.label for e in examples})
    model = TextModel(classes, seed=seed).fit([e.text for e in train], [e.label for e in train])
    probs = model.proba([e.text for e in held])
    pred = [model.classes[i] if p >= INTENT_THRESHOLD else "none"
            for i, p in zip(probs.argmax(1), probs.max(1), strict=True)]
    truth = [e.label for e in held]
    metrics = {"accuracy": round(accuracy_score(truth, pred), 4),
               "macro_f1": round(f1_score(truth, pred, average="macro"), 4),
               "per_class": classification_report(truth, pred, output_dict=True, zero_division=0)}
    card = _card("intent", examples, metrics,
                 "Route an employee's chat message or portal search to the HR answer it asks "
                 "for; 'none' means ordinary work chat and must lead to no HR action.",
                 corpora.catalog_text(data_dir))
    card["intents"] = {k: v["description"] for k, v in catalog.items()}
    card["threshold"] = INTENT_THRESHOLD
    return model, card


def _train(name: str, fit: Callable[..., tuple[TextModel, dict[str, Any]]],
           opts: TrainOptions, **kw: Any) -> artifacts.Artifact:
    opts.progress(f"generating corpus and training {name}", 0.1)
    model, card = fit(opts.seed, **kw)
    opts.progress("saving", 0.95)
    art = artifacts.save(opts.data_dir, name, model, card)
    opts.progress("done", 1.0)
    return art


def train_sentiment(opts: TrainOptions) -> artifacts.Artifact:
    return _train("sentiment", fit_sentiment, opts)


def train_topics(opts: TrainOptions) -> artifacts.Artifact:
    return _train("topics", fit_topics, opts)


def train_intent(opts: TrainOptions) -> artifacts.Artifact:
    return _train("intent", fit_intent, opts, data_dir=opts.data_dir)


# --- scorers ---------------------------------------------------------------------------------

_BUILTIN: dict[tuple[str, str], tuple[TextModel, dict[str, Any]]] = {}
_BUILTIN_LOCK = threading.Lock()


class _TextScorer:
    """Loads the active artifact once per process, else trains in-process once."""

    # Pure and cheap enough to score every event of a batch at ingest (rules.catalog).
    fast = True

    name = ""

    def __init__(self, data_dir: Any = None) -> None:
        self._data_dir = data_dir
        self._lock = threading.Lock()
        self._model: TextModel | None = None
        self._version = ""
        self._card: dict[str, Any] = {}

    def _fit(self, data_dir: Any) -> tuple[TextModel, dict[str, Any]]:
        raise NotImplementedError

    def _data(self) -> Any:
        if self._data_dir is None:
            from wendu.settings import Settings

            self._data_dir = Settings().data_dir
        return self._data_dir

    def model(self) -> TextModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._load()
        assert self._model is not None
        return self._model

    def _load(self) -> None:
        data_dir = self._data()
        try:
            art = artifacts.load(data_dir, self.name)
            self._version, self._card = art.version, art.card
            self._model = art.model
        except artifacts.ArtifactError:
            # One in-process model per process and catalog, however many registries ask.
            key = (self.name, corpora.catalog_text(data_dir))
            with _BUILTIN_LOCK:
                if key not in _BUILTIN:
                    _BUILTIN[key] = self._fit(data_dir)
            model, card = _BUILTIN[key]
            self._version = f"builtin-{card['training_data_hash'][:8]}"
            self._card = {**card, "version": self._version, "note": (
                "no trained artifact was active, so this model was trained in-process from "
                f"the shipped corpora; run `wendu models train {self.name}` to version it")}
            self._model = model

    @property
    def model_version(self) -> str:
        self.model()
        return self._version

    @property
    def card(self) -> dict[str, Any]:
        """The model card of the model in use (loaded or trained in-process)."""
        self.model()
        return self._card

    def score_text(self, text: str) -> dict[str, Any]:
        row, p = self.model().analyze(text)
        return self._result(text, row, p)

    def score_texts(self, texts: list[str], explain: bool = True) -> list[dict[str, Any]]:
        """Many texts at once: one vectorizer pass and one `predict_proba` for the batch.

        Without `explain` the results carry no phrases (factors []): value, label and model
        version are the same as with them, at a fraction of the cost (ingest's fast path).
        """
        if not texts:
            return []
        model = self.model()
        rows = model.transform(texts)
        probs = model.predict_proba(rows)
        if not explain:  # a row is only read for phrases; slicing one per text cost the most
            return [self._result(t, None, probs[i], False) for i, t in enumerate(texts)]
        return [self._result(t, rows[i], probs[i], explain) for i, t in enumerate(texts)]

    def score_batch(self, contexts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The fast scorer protocol: labels for many rule contexts, no explanations."""
        return self.score_texts([_text(c) for c in contexts], explain=False)

    def explain_batch(self, contexts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Whole results (phrases included) for many contexts: those that fired a rule."""
        return self.score_texts([_text(c) for c in contexts], explain=True)

    def _result(self, text: str, row: Any, p: np.ndarray, explain: bool = True
                ) -> dict[str, Any]:
        raise NotImplementedError

    def score(self, context: dict[str, Any]) -> dict[str, Any]:
        return self.score_text(_text(context))


class SentimentScorer(_TextScorer):
    name = "sentiment"

    def _fit(self, data_dir: Any) -> tuple[TextModel, dict[str, Any]]:
        return fit_sentiment()

    def _result(self, text: str, row: Any, p: np.ndarray, explain: bool = True
                ) -> dict[str, Any]:
        model = self.model()
        probs = dict(zip(model.classes, p.tolist(), strict=True))
        k = int(p.argmax())
        label = model.classes[k]
        return {"value": round(probs["positive"] - probs["negative"], 4), "label": label,
                "factors": phrase_factors(model, text, k, label, row) if explain else [],
                "probabilities": {c: round(v, 4) for c, v in probs.items()},
                "model_version": self._version}

    def label(self, value: float) -> str:
        return "negative" if value <= -0.2 else "positive" if value >= 0.2 else "neutral"


class TopicsScorer(_TextScorer):
    name = "topics"

    def _fit(self, data_dir: Any) -> tuple[TextModel, dict[str, Any]]:
        return fit_topics()

    def _result(self, text: str, row: Any, p: np.ndarray, explain: bool = True
                ) -> dict[str, Any]:
        model = self.model()
        order = [int(i) for i in np.argsort(-p)]
        chosen = [i for i in order if p[i] >= TOPIC_THRESHOLD] or order[:1]
        # The topic names are the result itself; only their phrases wait for `explain`.
        factors = [{"name": model.classes[i], "value": round(float(p[i]), 4),
                    "contribution": round(float(p[i]), 4), "direction": "increases",
                    "phrases": [ph for ph, _ in model.phrases(text, i, row=row)]
                    if explain else []} for i in chosen]
        return {"value": round(float(p[order[0]]), 4), "label": model.classes[order[0]],
                "factors": factors, "model_version": self._version}

    def label(self, value: float) -> str:
        return ""  # the topic is in the recorded factors; a probability alone cannot name it


class IntentScorer(_TextScorer):
    name = "intent"

    def __init__(self, data_dir: Any = None, threshold: float = INTENT_THRESHOLD) -> None:
        super().__init__(data_dir)
        self.threshold = threshold

    def _fit(self, data_dir: Any) -> tuple[TextModel, dict[str, Any]]:
        return fit_intent(data_dir=data_dir)

    def _result(self, text: str, row: Any, p: np.ndarray, explain: bool = True
                ) -> dict[str, Any]:
        model = self.model()
        k = int(p.argmax())
        intent = model.classes[k] if p[k] >= self.threshold else "none"
        if intent == "none" and "none" in model.classes:
            k = model.classes.index("none")
        return {"value": round(float(p.max()), 4), "label": intent,
                "factors": phrase_factors(model, text, k, intent, row) if explain else [],
                "model_version": self._version}

    def label(self, value: float) -> str:
        return ""  # the intent is in the recorded factors; a confidence alone cannot name it


TEXT_SCORERS = (SentimentScorer, TopicsScorer, IntentScorer)
