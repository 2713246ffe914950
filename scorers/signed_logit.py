"""Logistic regression whose coefficients keep the sign the training data gives each column.

A tabular score is explained by its terms (coefficient x standardized value), so a term must
point the way its fact does. Plain L2 logistic regression does not promise that: among
collinear facts it may give one a reversed weight, and the explanation then says a
satisfaction drop of 2.5 "lowers the risk" when, in the training data, people whose
satisfaction fell left more often. Here each coefficient is bounded to the sign of its
column's own association with the outcome (the covariance in the rows it is fitted on); a
column that would need the other sign gets 0 and drops out of every explanation instead of
contradicting it. The objective is scikit-learn's (C x summed log-loss + half the squared
norm, intercept unpenalized), minimised by L-BFGS-B with bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin


class SignedLogisticRegression(ClassifierMixin, BaseEstimator):
    def __init__(self, C: float = 1.0, max_iter: int = 2000, tol: float = 1e-8) -> None:
        self.C = C
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SignedLogisticRegression:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError("SignedLogisticRegression needs exactly two classes")
        t = (y == self.classes_[1]).astype(float)
        w = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, float)
        n, k = X.shape
        centered = X - np.average(X, axis=0, weights=w)
        self.signs_ = np.sign(np.average(centered * (t - np.average(t, weights=w))[:, None],
                                         axis=0, weights=w))
        bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (0.0, 0.0)
                  for s in self.signs_] + [(None, None)]
        scale = 1.0 / w.sum()  # the minimiser of a mean is the minimiser of the sum

        def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
            coef, b = params[:-1], params[-1]
            z = X @ coef + b
            loss = float(np.sum(w * (np.logaddexp(0.0, z) - t * z)))
            residual = w * (1.0 / (1.0 + np.exp(-z)) - t)
            grad = np.append(self.C * (X.T @ residual) + coef, self.C * residual.sum())
            value = self.C * loss + 0.5 * float(coef @ coef)
            return value * scale, grad * scale

        start = np.zeros(k + 1)
        rate = np.clip(np.average(t, weights=w), 1e-6, 1 - 1e-6)
        start[-1] = np.log(rate / (1 - rate))
        result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": self.max_iter, "ftol": self.tol})
        self.coef_ = result.x[None, :-1]
        self.intercept_ = result.x[-1:]
        self.n_features_in_ = k
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        return np.asarray(X, dtype=float) @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X: Any) -> np.ndarray:
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[(self.decision_function(X) > 0).astype(int)]
