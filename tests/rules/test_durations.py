import pytest

from wendu.rules.durations import (
    DurationError,
    cron_problem,
    format_duration,
    parse_duration,
    timezone_problem,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("1w", 604800),
        ("1d12h", 129600), ("1w2d3h4m5s", 788645), ("P2D", 172800), ("PT4H", 14400),
        ("P1DT30M", 88200), ("P1W", 604800), (" 2h ", 7200),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 days", "'2 days' is not a duration; write it like 90s"),
        ("12h1d", "'12h1d' is not a duration"),
        ("0s", "'0s' must be longer than zero"),
        ("", "'' is not a duration"),
        ("PT", "'PT' is not a duration"),
        ("P1M", "'P1M': years and months vary in length; use days"),
        (90, "a duration must be text"),
    ],
)
def test_bad_durations_explain_themselves(text, message):
    with pytest.raises(DurationError) as exc:
        parse_duration(text)
    assert str(exc.value).startswith(message)


def test_format_duration_is_the_short_form():
    assert format_duration(129600) == "1d12h"
    assert format_duration(90) == "1m30s"
    for text in ["90s", "P1DT30M", "1w"]:
        assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


def test_cron_needs_five_valid_fields():
    assert cron_problem("0 9 * * MON") is None
    assert cron_problem("*/15 8-18 * * 1-5") is None
    assert cron_problem("0 9 * *").startswith("'0 9 * *' has 4 fields; a schedule needs 5")
    assert cron_problem("0 0 9 * * MON").startswith("'0 0 9 * * MON' has 6 fields")
    assert cron_problem("61 9 * * MON").startswith("'61 9 * * MON' is not a valid cron")
    assert cron_problem("0 9 * * FUNDAY").startswith("'0 9 * * FUNDAY' is not a valid cron")


def test_timezones_are_iana_names():
    assert timezone_problem("Asia/Shanghai") is None
    assert timezone_problem("UTC") is None
    assert timezone_problem("Asia/Beijing").startswith("unknown time zone 'Asia/Beijing'")
    assert timezone_problem("../etc/passwd") is not None
