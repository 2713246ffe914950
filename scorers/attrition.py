"""The attrition scorer: probability of leaving within 6 months, calibrated and explained.

The model is a logistic regression on standardized features, calibrated with
`CalibratedClassifierCV` (sigmoid, 5 folds, one final estimator so each score has one exact
explanation). A linear model keeps the explanation exact: a factor's contribution is its term
in the log-odds (coefficient x standardized value), i.e. how far that fact moves this person's
risk from an average employee's. Trained on the generated company by default, or on a user's
CSV in the IBM HR Analytics layout (`--data`). Burnout reuses this machinery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from wendu.scorers import artifacts, fairness
from wendu.scorers.artifacts import Artifact
from wendu.scorers.baseline import LABELS, label_for
from wendu.scorers.features import (
    ATTRITION_FEATURES,
    FAIRNESS_GROUPS,
    IBM_LEVELS,
    IBM_LOGGED,
    Encoder,
    TabularData,
    company_columns,
    read_ibm_csv,
)
from wendu.scorers.signed_logit import SignedLogisticRegression
from wendu.scorers.synth import generate
from wendu.scorers.trainers import TrainOptions

# A person is "flagged" (label medium or high) from this probability on.
FLAG_THRESHOLD = 0.35
TRAIN_EMPLOYEES = 6000
TRAIN_WEEKS = 26


@dataclass
class TabularModel:
    """What the artifact stores: the encoder (features, medians) and the calibrated model."""

    name: str
    encoder: Encoder
    estimator: CalibratedClassifierCV

    @property
    def _linear(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pipe = self.estimator.calibrated_classifiers_[0].estimator
        scaler, lr = pipe[0], pipe[-1]
        return scaler.mean_, scaler.scale_, lr.coef_[0]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.estimator.predict_proba(X)[:, 1]

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """(rows, features): each input feature's term in the base model's log-odds."""
        mean, scale, coef = self._linear
        terms = (X - mean) / scale * coef
        sources = self.encoder.sources
        out = np.zeros((len(X), len(self.encoder.features)))
        for j, name in enumerate(self.encoder.features):
            out[:, j] = terms[:, [k for k, s in enumerate(sources) if s == name]].sum(axis=1)
        return out


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {"roc_auc": round(float(roc_auc_score(y, p)), 4),
            "pr_auc": round(float(average_precision_score(y, p)), 4),
            "brier": round(float(brier_score_loss(y, p)), 4),
            "positive_rate": round(float(y.mean()), 4), "rows": int(len(y))}


def _estimator(seed: int) -> CalibratedClassifierCV:
    # Signed: each term of an explanation points the way its fact does in the training data.
    base = make_pipeline(StandardScaler(), SignedLogisticRegression(C=0.3, max_iter=2000))
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(base, method="sigmoid", cv=cv, ensemble=False)


def fit_tabular(name: str, data: TabularData, options: TrainOptions, *, layout: str,
                source: str, extra_card: Mapping[str, Any]) -> Artifact:
    """Stratified 5-fold CV and a 20 % held-out split, then the artifact with its card."""
    y = data.target
    if y.min() == y.max() or min(y.sum(), len(y) - y.sum()) < 10:
        raise ValueError(f"{name}: training data needs at least 10 rows of each outcome "
                         f"(has {int(y.sum())} positive of {len(y)})")
    progress = options.progress
    progress("encode features", 0.1)
    shaped = {"logged": IBM_LOGGED, "levels": IBM_LEVELS} if layout == "ibm" else {}
    encoder = Encoder.fit(data.columns, data.numeric, data.categorical, layout, **shaped)
    X, _ = encoder.matrix(data.columns, len(y))
    _check_leakage(X, y, encoder)
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y,
                                           random_state=options.seed)
    progress("5-fold cross-validation", 0.3)
    cv = StratifiedKFold(5, shuffle=True, random_state=options.seed)
    oof = cross_val_predict(_estimator(options.seed), X[idx_train], y[idx_train], cv=cv,
                            method="predict_proba")[:, 1]
    progress("fit final model", 0.7)
    estimator = _estimator(options.seed).fit(X[idx_train], y[idx_train])
    model = TabularModel(name, encoder, estimator)
    progress("held-out evaluation and fairness", 0.9)
    p_test = model.predict(X[idx_test])
    groups = {g: np.asarray(data.columns[g])[idx_test] for g in FAIRNESS_GROUPS
              if g in data.columns}
    card = {
        **extra_card,
        "source": source,
        "features": encoder.features,
        "training_medians": encoder.medians,
        "data_notes": data.notes,
        "metrics": {"cv_5fold": {k: v for k, v in _metrics(y[idx_train], oof).items()
                                 if k in ("roc_auc", "pr_auc", "rows")},
                    "held_out": _metrics(y[idx_test], p_test)},
        "flag_threshold": FLAG_THRESHOLD,
        "explanations": "Each factor is its term in the log-odds; every weight keeps the sign "
                        "of its feature's association with the outcome in the training rows, "
                        "so a factor never points against its fact. Features that would need "
                        "the other sign get no weight and are never named: see 'unweighted'.",
        "unweighted": _unweighted(model),
        "fairness": fairness.report(y[idx_test], p_test >= FLAG_THRESHOLD, groups),
        "seed": options.seed,
    }
    art = artifacts.save(options.data_dir, name, model, card)
    progress("saved", 1.0)
    return art


def _unweighted(model: TabularModel) -> list[str]:
    coef = model._linear[2]
    sources = model.encoder.sources
    return [name for name in model.encoder.features
            if not any(coef[k] for k, s in enumerate(sources) if s == name)]


def _check_leakage(X: np.ndarray, y: np.ndarray, encoder: Encoder) -> None:
    """One column that alone separates the outcome is the outcome in disguise, not a cause."""
    for j, name in enumerate(encoder.sources):
        col = X[:, j]
        if np.ptp(col) == 0:
            continue
        auc = roc_auc_score(y, col)
        if max(auc, 1 - auc) > 0.97:
            raise ValueError(f"column {name} alone predicts the outcome (AUC "
                             f"{max(auc, 1 - auc):.2f}): it looks like leakage; remove it")


def company_data(employees: int, weeks: int, seed: int, target: str,
                 features: Sequence[str]) -> TabularData:
    company = generate(employees, weeks, seed)
    columns = company_columns(company)
    y = (company.left if target == "attrition" else company.burnout).astype(int)
    return TabularData(columns, y, list(features), [], [])


def train(options: TrainOptions) -> Artifact:
    if options.data is not None:
        options.progress(f"read {options.data}", 0.0)
        data = read_ibm_csv(options.data)
        layout, source = "ibm", f"csv:{options.data.name}"
        digest = artifacts.data_hash(options.data.read_bytes())
    else:
        options.progress("generate the synthetic company", 0.0)
        data = company_data(TRAIN_EMPLOYEES, TRAIN_WEEKS, options.seed, "attrition",
                            ATTRITION_FEATURES)
        layout = "company"
        source = f"synthetic company: {TRAIN_EMPLOYEES} employees, {TRAIN_WEEKS} weeks"
        digest = artifacts.data_hash(f"synth:{TRAIN_EMPLOYEES}:{TRAIN_WEEKS}:{options.seed}")
    return fit_tabular("attrition", data, options, layout=layout, source=source, extra_card={
        "training_data_hash": digest,
        # The IBM file's Attrition is a plain yes/no, with no time window.
        "target": "Attrition = Yes (left)" if layout == "ibm" else "leaves within 6 months",
        "intended_use": "Rank employees for a retention conversation by their manager or "
                        "HRBP. A prompt to talk, never a decision about a person.",
        "limits": "Trained on the data named in 'source'. Pay against band median, "
                  "commute, level, promotion date and manager changes come from employee "
                  "events (monthly_pay, pay_band_median, commute_km, level, last_promoted_on, "
                  "manager_id); a fact no event has carried yet is imputed with the training "
                  "median and each score names it. Manager changes count only those Wendu "
                  "saw. Gender is not a feature; check the fairness section before use.",
    })


class TabularScorer:
    """A trained tabular model behind the registry's `Scorer` protocol."""

    def __init__(self, artifact: Artifact, top_factors: int = 5) -> None:
        self.model: TabularModel = artifact.model
        self.name = artifact.name
        self.model_version = artifact.version
        self.threshold = float(artifact.card.get("flag_threshold", FLAG_THRESHOLD))
        self.top_factors = top_factors

    @property
    def features(self) -> list[str]:
        """What the model reads, so the SCORE activity fetches only inputs it will use."""
        return self.model.encoder.features

    def label(self, value: float) -> str:
        return label_for(value)

    def score(self, context: dict[str, Any]) -> dict[str, Any]:
        enc = self.model.encoder
        record = enc.read_context(context)
        X, missing = enc.matrix(enc.records_to_columns([record]), 1)
        value = float(self.model.predict(X)[0])
        contrib = self.model.contributions(X)[0]
        factors = []
        # A fact the model gives no weight moves nobody's risk: it is never a factor.
        for j in [j for j in np.argsort(-np.abs(contrib)) if contrib[j]][: self.top_factors]:
            name = enc.features[j]
            imputed = bool(missing[0, j])
            shown = (enc.medians.get(name) if imputed else record.get(name))
            factors.append({
                "name": name, "value": shown, "contribution": round(float(contrib[j]), 4),
                "direction": "increases" if contrib[j] > 0 else "decreases",
                "imputed": imputed,
            })
        return {"value": round(value, 4), "label": label_for(value), "factors": factors,
                "imputed": [n for j, n in enumerate(enc.features) if missing[0, j]],
                "model_version": self.model_version}

    # Reads the profile alone (no team baseline): scored at ingest for a whole batch.
    @property
    def fast(self) -> bool:
        return "overtime_vs_team" not in self.features

    def score_batch(self, contexts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The fast scorer protocol: value and label for many rule contexts, one predict."""
        enc = self.model.encoder
        scored = self.score_many([enc.read_context(c) for c in contexts])
        return [{**r, "factors": []} for r in scored]

    def predict_columns(self, columns: Mapping[str, Any], n: int) -> np.ndarray:
        X, _ = self.model.encoder.matrix(columns, n)
        return self.model.predict(X)

    def score_many(self, rows: Sequence[Mapping[str, Any]] | Mapping[str, Any]
                   ) -> list[dict[str, Any]]:
        """Feature records (or a mapping of feature columns) in, {value, label} per row out."""
        if isinstance(rows, Mapping):
            n = len(next(iter(rows.values()))) if rows else 0
            values = self.predict_columns(rows, n)
        else:
            enc = self.model.encoder
            values = self.predict_columns(enc.records_to_columns(rows), len(rows))
        labels = np.select([values < bound for bound, _ in LABELS[:-1]],
                           [name for _, name in LABELS[:-1]], LABELS[-1][1])
        version = self.model_version
        return [{"value": round(float(v), 4), "label": str(lab), "model_version": version}
                for v, lab in zip(values, labels, strict=True)]


def load_scorer(data_dir: Any, name: str = "attrition") -> TabularScorer:
    return TabularScorer(artifacts.load(data_dir, name))
