"""The burnout scorer: risk of burning out within 8 weeks, from attendance patterns.

Load is read against the employee's own baseline (the weeks before the last four) and their
team's current load, next to late clock-outs, weekend work, weeks in a row of heavy overtime and
leave not taken. Same model and explanation machinery as attrition (see attrition.py). A live
profile carries the 7- and 28-day facts, the own baseline and the streak once it has 8 weeks
of attendance, and leave days once `leave.taken` events arrive; the SCORE activity adds the team
baseline from the profiles of the employee's team. What is still missing is imputed with the
training median and named in the explanation.
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
            "limits": "Trained on the synthetic company only. The own baseline and the "
                      "streak need 8 weeks of attendance, the team baseline 3 colleagues under "
                      "the same manager with recent attendance, leave days leave.taken events; "
                      "until then they are imputed with training medians (named in each "
                      "score).",
        })
