"""The burnout scorer: risk of burning out within 8 weeks, from attendance patterns.

Load is read against the employee's own baseline (the weeks before the last four) and their
team's current load, next to late clock-outs, weekend work, weeks in a row of heavy overtime and
leave not taken. Same model and explanation machinery as attrition (see attrition.py); a live
profile carries the 7- and 28-day facts, the rest are imputed and named in the explanation.
"""

from __future__ import annotations

from wendu.scorers import artifacts
from wendu.scorers.artifacts import Artifact
from wendu.scorers.attrition import TRAIN_EMPLOYEES, TRAIN_WEEKS, company_data, fit_tabular
from wendu.scorers.features import BURNOUT_FEATURES
from wendu.scorers.trainers import TrainOptions


def train(options: TrainOptions) -> Artifact:
    if options.data is not None:
        raise ValueError("burnout trains on the generated company only; --data is for "
                         "attrition (IBM HR layout)")
    options.progress("generate the synthetic company", 0.0)
    data = company_data(TRAIN_EMPLOYEES, TRAIN_WEEKS, options.seed, "burnout", BURNOUT_FEATURES)
    return fit_tabular(
        "burnout", data, options, layout="company",
        source=f"synthetic company: {TRAIN_EMPLOYEES} employees, {TRAIN_WEEKS} weeks",
        extra_card={
            "training_data_hash": artifacts.data_hash(
                f"synth-burnout:{TRAIN_EMPLOYEES}:{TRAIN_WEEKS}:{options.seed}"),
            "target": "burns out within 8 weeks",
            "intended_use": "Prompt a manager to look at an employee's workload and leave "
                            "before it becomes a health problem.",
            "limits": "Trained on the synthetic company only. Baselines against the "
                      "employee's own history and their team's need weekly attendance; a live "
                      "profile without them is scored on the 7/28-day facts with the rest "
                      "imputed (named in each score).",
        })
