"""What only HR sees of a person: pay, where they come from, where they live.

A manager acts on workload, satisfaction, training and risk; pay (`pay_ratio` and the pay it
is made of), the city of household registration and the commute are HR's to handle. Every
view that shows a profile's facts, a score's factors or a rule's matched values to someone
outside HR passes them through here: the facts are left out, and a factor keeps its name (a
manager may need to know pay plays a part, to bring HR in) without its value.
"""

from __future__ import annotations

from typing import Any

from wendu.api.web_accounts import SessionUser

HR_ONLY_FACTS = frozenset({"pay_ratio", "monthly_pay", "pay_band_median", "hometown_city",
                           "commute_km"})


def hr_only(name: str) -> bool:
    """`name` is an HR-only fact, bare or as an expression path (`profile.pay_ratio`)."""
    return name.rsplit(".", 1)[-1] in HR_ONLY_FACTS


def facts_for(user: SessionUser, facts: dict[str, Any]) -> dict[str, Any]:
    if user.is_hr:
        return facts
    out = {k: v for k, v in facts.items() if not hr_only(k)}
    if isinstance(out.get("scores"), dict):  # the profile's copy of the latest scores
        out["scores"] = {name: scores_for(user, [score])[0] if isinstance(score, dict) else score
                         for name, score in out["scores"].items()}
    return out


def factors_for(user: SessionUser, factors: list[Any]) -> list[Any]:
    if user.is_hr:
        return factors
    return [{k: v for k, v in f.items() if k != "value"} | {"hidden": True}
            if isinstance(f, dict) and hr_only(str(f.get("name", ""))) else f
            for f in factors]


def scores_for(user: SessionUser, scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**s, "factors": factors_for(user, s.get("factors") or [])} for s in scores]


def why_for(user: SessionUser, why: dict[str, Any]) -> dict[str, Any]:
    """A task's "why" (matched conditions, values, scores) as the user may see it."""
    if user.is_hr:
        return why
    return {**why,
            "matched": [m for m in why.get("matched") or [] if not any(
                name in m for name in HR_ONLY_FACTS)],
            "values": {k: v for k, v in (why.get("values") or {}).items() if not hr_only(k)},
            "scores": scores_for(user, why.get("scores") or [])}
