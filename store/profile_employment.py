"""Employment in the profile: what the HRIS reports about pay, commute, level and promotions,
and the dated manager assignments of the past year.

Pay itself stays in the state; the facts carry only its ratio to the band median.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from wendu.store.profile_values import as_datetime

MANAGER_DAYS = 365
EMPLOYMENT_FACTS = ("monthly_pay", "pay_band_median", "commute_km", "level", "last_promoted_on")


def fold_employee(state: dict, data: dict, occurred: datetime, zone: ZoneInfo) -> None:
    _fold_employment(state, data, occurred)
    _fold_manager(state, data, occurred)


def _fold_employment(state: dict, data: dict, occurred: datetime) -> None:
    """Each field's latest report wins, so an older update arriving late does not undo a
    newer one."""
    current = state.get("employment") or {}
    changed = dict(current)
    for name in EMPLOYMENT_FACTS:
        if name not in data:
            continue  # only the fields sent change
        previous = current.get(name)
        if previous is None or as_datetime(previous["at"]) <= occurred:
            value = data[name]
            if isinstance(value, date):
                value = value.isoformat()  # state and facts are plain JSON
            changed[name] = {"value": value, "at": occurred.isoformat()}
    if changed != current:
        state["employment"] = changed


def _fold_manager(state: dict, data: dict, occurred: datetime) -> None:
    """Dated manager assignments of the past year, and the one before it.

    The assignment just before the window is what the first one inside it changed from. The
    list exists from the first employee event on, so no change then is a known 0."""
    managers = list(state.get("managers") or [])
    if data.get("manager_id") is not None:
        managers.append({"at": occurred.isoformat(), "manager_id": data["manager_id"]})
        managers.sort(key=lambda m: as_datetime(m["at"]))
    latest = as_datetime(state["last_event_at"])
    inside = [
        i
        for i, m in enumerate(managers)
        if latest - as_datetime(m["at"]) < timedelta(days=MANAGER_DAYS)
    ]
    first = inside[0] if inside else len(managers)
    state["managers"] = managers[max(first - 1, 0) :]


def derive_employment(facts: dict, state: dict, as_of: str | None) -> None:
    employment = state.get("employment")
    if employment:
        known = {k: v["value"] for k, v in employment.items()}
        pay, median = known.get("monthly_pay"), known.get("pay_band_median")
        if pay is not None and median:
            facts["pay_ratio"] = round(float(pay) / float(median), 4)
        for name in ("commute_km", "level", "last_promoted_on"):
            if known.get(name) is not None:
                facts[name] = known[name]
    managers = state.get("managers")
    if managers is None or not as_of:
        return
    at = as_datetime(as_of)
    year = timedelta(days=MANAGER_DAYS)
    facts["manager_changes_1y"] = sum(
        1
        for before, after in itertools.pairwise(managers)
        if after["manager_id"] != before["manager_id"]
        and timedelta(0) <= at - as_datetime(after["at"]) < year
    )
