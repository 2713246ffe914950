"""Who a scorer flags, by gender, age band and department, checked against the 4/5 rule.

A flag here is an offer of help (a retention talk, a workload review), so a group flagged far
less often than others is a group the scorer overlooks. For each grouping the report gives
each group's size, flag rate and true-positive rate (of those who did leave or burn out, the
share flagged beforehand), and marks every group whose flag rate is below four fifths of the
highest group's (the EEOC "four-fifths" rule of thumb for adverse impact). Groups smaller than
`min_group` are listed but not judged: their rates are mostly noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

FOUR_FIFTHS = 0.8


def report(y_true: np.ndarray, flagged: np.ndarray, groups: Mapping[str, np.ndarray],
           *, min_group: int = 50) -> dict[str, Any]:
    y_true = np.asarray(y_true).astype(bool)
    flagged = np.asarray(flagged).astype(bool)
    out: dict[str, Any] = {"overall_flag_rate": _rate(flagged), "rule": "four_fifths",
                           "min_group": min_group, "groups": {}, "below_four_fifths": []}
    for attribute, values in groups.items():
        values = np.asarray(values).astype(str)
        rows = []
        for group in sorted(set(values)):
            member = values == group
            positives = member & y_true
            rows.append({
                "group": group,
                "n": int(member.sum()),
                "flag_rate": _rate(flagged[member]),
                "tpr": _rate(flagged[positives]) if positives.any() else None,
                "judged": bool(member.sum() >= min_group),
            })
        judged = [r for r in rows if r["judged"]]
        top = max((r["flag_rate"] for r in judged), default=0.0)
        for r in rows:
            r["ratio_to_highest"] = round(r["flag_rate"] / top, 4) if top else None
            r["below_four_fifths"] = bool(r["judged"] and top and
                                          r["flag_rate"] < FOUR_FIFTHS * top)
            if r["below_four_fifths"]:
                out["below_four_fifths"].append(f"{attribute}={r['group']}")
        out["groups"][attribute] = rows
    return out


def _rate(mask: np.ndarray) -> float:
    return round(float(mask.mean()), 4) if len(mask) else 0.0


def format_report(rep: Mapping[str, Any]) -> str:
    """The report as plain text for the command line."""
    lines = [f"overall flag rate {rep['overall_flag_rate']:.1%}"]
    for attribute, rows in rep["groups"].items():
        lines.append(f"\n{attribute}:")
        lines.append(f"  {'group':<16}{'n':>7}{'flag rate':>11}{'TPR':>8}  4/5 rule")
        for r in rows:
            tpr = "-" if r["tpr"] is None else f"{r['tpr']:.1%}"
            verdict = ("BELOW 4/5" if r["below_four_fifths"]
                       else "ok" if r["judged"] else f"too few (<{rep['min_group']})")
            lines.append(f"  {r['group']:<16}{r['n']:>7}{r['flag_rate']:>11.1%}{tpr:>8}  "
                         f"{verdict}")
    flagged = rep["below_four_fifths"]
    lines.append("\nflagged below 4/5 of the highest rate: " + (", ".join(flagged) or "none"))
    return "\n".join(lines)
