"""How old an event may be and still fire a rule: backfilled history is not news.

A producer catching up (an import, a replayed feed, a demo's weeks of past attendance) posts
events that happened long ago. They belong in the profile, which is folded as of each event,
but a rule acting on them would tell people about last month as if it were today: one care
message per past week, all within a second. So each event rule has a freshness window
(`max_age:` in its YAML, the site default otherwise); an event older than that when it
arrives folds into the profile and fires nothing, and its result says `stale`.

Age is measured from `occurred_at` to when the event arrived (its `received_at`), so a
backtest over stored events makes the same call live ingest made. Schedule rules have no
triggering event and no window.
"""

from __future__ import annotations

from wendu.rules.durations import DurationError, parse_duration

DEFAULT_MAX_AGE_SECONDS = 3 * 86400  # 3 days
OFF = "off"


def parse_max_age(text: object) -> int | None:
    """`3d`, `12h`, `P7D` -> seconds; `off` -> None (no window). Raises DurationError."""
    if isinstance(text, str) and text.strip().lower() == OFF:
        return None
    return parse_duration(text)


def max_age_problem(text: object) -> str | None:
    try:
        parse_max_age(text)
    except DurationError as exc:
        return f"max_age: {exc} (or off: any age fires)"
    return None
