"""The JSON screen skips its second parse only when no string or number can be refused: each
case below is a body built to slip past a cheap check, and must still be caught."""

from __future__ import annotations

import json

import pytest

from wendu.api.input_limits import json_problems

LIMIT = 64 * 1024


@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        # Escaped quotes cut the text into short runs between quotes.
        (json.dumps({"t": 'a"' * 40_000}), "t", "string_too_long"),
        # Escaped (\u4e2d: 6 bytes) and raw (3 bytes) forms of the same long Chinese text.
        (json.dumps({"t": "中" * 22_000}), "t", "string_too_long"),
        (json.dumps({"t": "中" * 22_000}, ensure_ascii=False), "t", "string_too_long"),
        (json.dumps({"k" * (LIMIT + 1): 1}), "body", "string_too_long"),  # a key
        (json.dumps({"t": "a" * 10, "n": [1, 2, 1.5e16]}), "n[2]", "float_out_of_range"),
        ('{"n": 2E+300}', "n", "float_out_of_range"),
        ('{"n": 10000000000000000000}', "n", "int_out_of_range"),
        ('{"n": -Infinity}', "body", "json_invalid"),
        (json.dumps({"s": "x\ud83dy"}), "s", "string_surrogate"),
        (json.dumps({"s": "x\x00"}), "s", "string_nul"),
    ],
)
def test_a_body_built_to_slip_past_the_screen_is_caught(body, field, kind):
    [found] = json_problems(body.encode(), LIMIT)
    assert (found["field"], found["type"]) == (field, kind)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"t": "a" * LIMIT, "u": "b" * LIMIT}),  # each exactly at the limit
        json.dumps({"pair": "\ud83d\ude00", "n": 1e15, "e": 1.5e-300, "i": 2**63 - 1}),
        json.dumps({"path": "C:\\\\temp\\\\", "id": "a3e91f00"}),
    ],
)
def test_text_and_numbers_within_the_limits_pass(body):
    assert json_problems(body.encode(), LIMIT) == []
