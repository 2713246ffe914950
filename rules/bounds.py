"""Limits on the values an expression may build, checked before the work is done.

`'a' * 10**9`, `10 ** 10000000` or `'%999999999d' % 1` are one short line each, yet Python
runs each as a single call that holds the interpreter for seconds and can take gigabytes; no
timeout can stop it midway. So the operators and filters that multiply a size (`*`, `**`, `%`,
`center`, `indent`, `batch`, `slice`, `replace`) check the size of their result first, and the
ones that only add sizes (`+`, `~`) check it after. The compiled expressions (rules/pyexpr.py)
and the Jinja environment both use these, and the compiler runs them on constants so a visible
`'a' * 10**9` is an error before the rule is ever stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from jinja2 import filters as jinja_filters

# Characters of a text or items of a list: far above what a message or a key needs, far below
# what would slow a worker down.
MAX_LENGTH = 1_000_000
# Bits of an integer: about 1,200 decimal digits.
MAX_INT_BITS = 4096


class TooLarge(ValueError):
    """A value an expression would build beyond the limits above."""


def _length(what: str, size: int) -> None:
    if size > MAX_LENGTH:
        raise TooLarge(
            f"{what} would be too large: {size:,} characters or items (at most {MAX_LENGTH:,})"
        )


def _bits(what: str, bits: int) -> None:
    if bits > MAX_INT_BITS:
        digits = math.ceil(bits * math.log10(2))
        raise TooLarge(
            f"{what} would be too large: a number of about {digits:,} digits "
            f"(at most {int(MAX_INT_BITS * math.log10(2)):,})"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int)


def _sized(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


def mul(left: Any, right: Any) -> Any:
    if _is_int(left) and _is_int(right):
        _bits("'*'", left.bit_length() + right.bit_length())
    elif _sized(left) and _is_int(right):
        _length("'*'", len(left) * right)
    elif _is_int(left) and _sized(right):
        _length("'*'", left * len(right))
    return left * right


def power(left: Any, right: Any) -> Any:
    if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
        _bits("'**'", math.ceil(right * math.log2(abs(left))))
    return left**right


# A conversion with its width and precision: `%-10.3f`, `%*d`, `%(name)s`.
_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def _format_size(fmt: str, args: Any) -> None:
    values = list(args) if isinstance(args, tuple) else [args]
    for match in _SPEC.finditer(fmt):
        for part in match.groups():
            if part == "*":
                star = values.pop(0) if values else 0
                if _is_int(star):
                    _length("'%' formatting", abs(star))
            elif part:
                _length("'%' formatting", int(part[:18]))


def mod(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        _format_size(left, right)
        result = left % right
        _length("'%' formatting", len(result))
        return result
    return left % right


def add(left: Any, right: Any) -> Any:
    result = left + right
    if _sized(result):
        _length("'+'", len(result))
    return result


def checked_join(join: Callable[..., str]) -> Callable[..., str]:
    def joined(parts: Any) -> str:
        result = join(parts)
        _length("'~'", len(result))
        return result

    return joined


# --- Filters and methods whose result can dwarf their input -------------------------------


def _center(value: Any, width: int = 80) -> str:
    if _is_int(width):
        _length("'center'", width)
    return jinja_filters.do_center(value, width)


def _indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> str:
    text = str(value)
    pad = width if isinstance(width, str) else " " * min(width, MAX_LENGTH + 1)
    _length("'indent'", len(text) + len(pad) * (text.count("\n") + 1))
    return jinja_filters.do_indent(value, width, first, blank)


def _replace_size(value: Any, old: Any, new: Any, count: Any = None) -> None:
    if isinstance(value, str) and isinstance(old, str) and isinstance(new, str):
        times = len(value) + 1 if not old else value.count(old)
        if _is_int(count) and count >= 0:
            times = min(times, count)
        _length("'replace'", len(value) + times * max(0, len(new) - len(old)))


def _replace(eval_ctx: Any, value: Any, old: Any, new: Any, count: Any = None) -> Any:
    _replace_size(str(value), old, new, count)
    return jinja_filters.do_replace(eval_ctx, value, old, new, count)


def _format(value: Any, *args: Any, **kwargs: Any) -> str:
    if isinstance(value, str) and not kwargs:
        _format_size(value, args)
    result = jinja_filters.do_format(value, *args, **kwargs)
    _length("'format'", len(result))
    return result


def _batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
    if _is_int(linecount) and fill_with is not None:
        _length("'batch'", linecount)
    return jinja_filters.do_batch(value, linecount, fill_with)


def _slice(value: Any, slices: int, fill_with: Any = None) -> Any:
    if _is_int(slices):
        _length("'slice'", slices)
    return jinja_filters.sync_do_slice(value, slices, fill_with)


def guarded_filters() -> dict[str, Callable[..., Any]]:
    """Jinja's filters that can multiply a size, each checking it first."""
    return {
        "center": _center,
        "indent": _indent,
        "replace": jinja_filters.pass_eval_context(_replace),
        "format": _format,
        "batch": _batch,
        "slice": _slice,
    }


def check_method(obj: Any, name: str, args: tuple[Any, ...]) -> None:
    """Before a method call: `text.replace('', long_text)` grows with both lengths."""
    if name == "replace" and len(args) >= 2:
        _replace_size(obj, *args[:3])


BINOPS: dict[str, Callable[[Any, Any], Any]] = {"*": mul, "**": power, "%": mod, "+": add}
