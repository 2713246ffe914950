"""Versioned model artifacts: the fitted model, its feature list, training-data hash and card.

Layout under the data dir: `models/<name>/<version>/{model.joblib, card.json}` and
`models/<name>/ACTIVE` naming the version the worker loads. Versions are timestamps plus a
short data hash, so two trainings on the same data are told apart and sort by age.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib

MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
ACTIVE_FILE = "ACTIVE"


class ArtifactError(Exception):
    """A model is missing or unreadable: a message the user can act on."""


@dataclass
class Artifact:
    name: str
    version: str
    model: Any
    card: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def models_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models"


def data_hash(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
    return h.hexdigest()


def save(
    data_dir: Path, name: str, model: Any, card: dict[str, Any], *, activate: bool = True
) -> Artifact:
    """Write a new version; `card` should hold features, metrics, intended use and limits."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    short = str(card.get("training_data_hash", ""))[:8] or "nodata"
    version = f"{stamp}-{short}"
    path = models_dir(data_dir) / name / version
    n = 1
    while path.exists():  # two trainings in the same second
        n += 1
        path = models_dir(data_dir) / name / f"{version}.{n}"
    version = path.name
    path.mkdir(parents=True)
    card = {**card, "name": name, "version": version, "trained_at": datetime.now(UTC).isoformat()}
    joblib.dump(model, path / MODEL_FILE)
    (path / CARD_FILE).write_text(json.dumps(card, indent=2, ensure_ascii=False), "utf-8")
    if activate:
        (path.parent / ACTIVE_FILE).write_text(version, "utf-8")
    return Artifact(name, version, model, card, path)


def versions(data_dir: Path, name: str) -> list[str]:
    root = models_dir(data_dir) / name
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / CARD_FILE).exists())


def names(data_dir: Path) -> list[str]:
    root = models_dir(data_dir)
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def active_version(data_dir: Path, name: str) -> str | None:
    marker = models_dir(data_dir) / name / ACTIVE_FILE
    if marker.exists():
        return marker.read_text("utf-8").strip() or None
    found = versions(data_dir, name)
    return found[-1] if found else None


def card(data_dir: Path, name: str, version: str | None = None) -> dict[str, Any]:
    version = version or active_version(data_dir, name)
    if not version:
        raise ArtifactError(f"no trained model '{name}'; run: wendu models train {name}")
    path = models_dir(data_dir) / name / version / CARD_FILE
    if not path.exists():
        raise ArtifactError(f"model '{name}' has no version '{version}'")
    return json.loads(path.read_text("utf-8"))


def load(data_dir: Path, name: str, version: str | None = None) -> Artifact:
    version = version or active_version(data_dir, name)
    if not version:
        raise ArtifactError(f"no trained model '{name}'; run: wendu models train {name}")
    path = models_dir(data_dir) / name / version
    try:
        model = joblib.load(path / MODEL_FILE)
    except FileNotFoundError:
        raise ArtifactError(f"model '{name}' version '{version}' is missing its file") from None
    return Artifact(name, version, model, card(data_dir, name, version), path)
