"""Which function trains each scorer: `wendu models train NAME` dispatches through this table.

Each entry is "module:function"; the function takes `TrainOptions` and returns the saved
`wendu.scorers.artifacts.Artifact`. Modules are imported only when that model is trained.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wendu.scorers.artifacts import Artifact

TRAINERS: dict[str, str] = {
    # tabular scorers (profile and attendance features)
    "attrition": "wendu.scorers.attrition:train",
    "burnout": "wendu.scorers.burnout:train",
    # text scorers and recommendation
    "sentiment": "wendu.scorers.text_models:train_sentiment",
    "topics": "wendu.scorers.text_models:train_topics",
    "intent": "wendu.scorers.text_models:train_intent",
    "course_recommendation": "wendu.scorers.courses:train",
}


@dataclass
class TrainOptions:
    data_dir: Path
    # A user's own data file (e.g. the IBM HR attrition CSV layout); None: generated data.
    data: Path | None = None
    seed: int = 7
    # Called with (step, fraction 0..1) so the command line can show progress.
    progress: Callable[[str, float], None] = field(default=lambda step, fraction: None)


def trainer(name: str) -> Callable[[TrainOptions], Artifact]:
    if name not in TRAINERS:
        raise KeyError(f"unknown model '{name}'; models: {', '.join(sorted(TRAINERS))}")
    module, func = TRAINERS[name].split(":")
    return getattr(importlib.import_module(module), func)
