"""Stage 4: the message templates a rule may name, checked like expressions.

A template is a folder `<templates>/<name>/` with one file per locale (`zh-CN.j2`, `en.j2`),
each defining `{% block subject %}` and `{% block body %}`. The compiler checks every template
a rule uses against the names its step provides, so a typo surfaces at `wendu rules validate`
and not in a manager's inbox.

A template may add per-channel variants, `<locale>.<channel>.j2` (`zh-CN.wecom.j2` markdown,
`en.email.j2` HTML), each with a `body` block; they are checked against the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader

import wendu.templates
from wendu.rules.catalog import CHANNELS
from wendu.rules.errors import RuleError
from wendu.rules.expressions import (
    Obj,
    Scope,
    check_template,
    fields_read,
    flat_context,
    make_environment,
)
from wendu.rules.template_dates import raw_dates

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
BLOCKS = ("subject", "body")
DEFAULT_TEMPLATES_DIR = Path(wendu.templates.__file__).parent

# Templates the engine itself uses for every assign_task step.
TASK_ASSIGNED = "task_assigned"
TASK_REMINDER = "task_reminder"
TASK_ESCALATED = "task_escalated"

RECIPIENT = Obj("recipient", dict.fromkeys(("id", "name", "locale", "role")))
TASK = Obj("task", dict.fromkeys(("id", "title", "due_at", "status", "escalation_level", "url")))
_TASK_ONLY = "only assign_task templates get 'task'"
_MESSAGE_ONLY = (
    "task reminder and escalation templates get only task, recipient, rule and employee"
)


def notify_scope(rule_scope: Scope) -> Scope:
    """What a notify template sees: the rule's names plus `recipient` and `why`."""
    return rule_scope.with_names(recipient=RECIPIENT, why=None).without("task", reason=_TASK_ONLY)


def task_scope(rule_scope: Scope) -> Scope:
    """What an assign_task template sees: a notify template's names plus `task`."""
    return rule_scope.with_names(recipient=RECIPIENT, why=None, task=TASK)


def task_message_scope(rule_scope: Scope) -> Scope:
    """What `task_reminder` and `task_escalated` see: they are sent long after the event."""
    kept = {n: rule_scope.names[n] for n in ("rule", "employee") if n in rule_scope.names}
    dropped = set(rule_scope.names) - set(kept) | {"why", "event", "profile", "schedule"}
    return Scope(
        {**kept, "task": TASK, "recipient": RECIPIENT}, dict.fromkeys(dropped, _MESSAGE_ONLY)
    )


def _date_warnings(file: Path, what: str, source: str) -> list[RuleError]:
    """A warning per date or time the template prints as stored (rules/template_dates.py)."""
    return [RuleError(str(file), p.line, p.col, f"{what}: {p.message}", severity="warning")
            for p in raw_dates(source)]


def locale_for(locale: str | None) -> str:
    """The template locale for an employee's preference ('en-US' -> 'en', else zh-CN)."""
    if locale and locale.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str


class TemplateCatalog:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path is not None else DEFAULT_TEMPLATES_DIR
        # A rule set uses a few templates many times; read each file once per catalog.
        self._sources: dict[Path, str | None] = {}

    def names(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(d.name for d in self.path.iterdir() if d.is_dir() and any(d.glob("*.j2")))

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def file(self, name: str, locale: str) -> Path:
        return self.path / name / f"{locale}.j2"

    def check(self, name: str, scope: Scope) -> list[RuleError]:
        """Problems of template `name` for a step offering `scope`.

        Problems inside a file point at that file; a missing locale file has line 0, and the
        compiler moves it to the rule's `template:` line where the author can act on it.
        """
        problems: list[RuleError] = []
        for locale in LOCALES:
            file = self.file(name, locale)
            source = self._source(file)
            if source is None:
                problems.append(RuleError(
                    str(file), 0, 0,
                    f"template '{name}' has no {locale}.j2; every template needs "
                    f"{' and '.join(f'{loc}.j2' for loc in LOCALES)}",
                ))
                continue
            found = check_template(source, scope, BLOCKS)
            problems += [RuleError(str(file), p.line, p.col, f"template '{name}' ({locale}): "
                                   f"{p.message}") for p in found]
            if not found:  # a file with errors has more pressing news
                problems += _date_warnings(file, f"template '{name}' ({locale})", source)
        return problems + self._check_variants(name, scope)

    def _check_variants(self, name: str, scope: Scope) -> list[RuleError]:
        problems: list[RuleError] = []
        folder = self.path / name
        for file in sorted(folder.glob("*.*.j2")) if folder.is_dir() else []:
            locale, _, channel = file.name[: -len(".j2")].rpartition(".")
            if locale not in LOCALES or channel not in CHANNELS:
                problems.append(RuleError(
                    str(file), 0, 0,
                    f"template '{name}': variant {file.name} should be named "
                    f"<locale>.<channel>.j2 with locale in {', '.join(LOCALES)} and channel in "
                    f"{', '.join(sorted(CHANNELS))}",
                ))
                continue
            source = self._source(file) or ""
            found = check_template(source, scope, ("body",))
            problems += [RuleError(str(file), p.line, p.col, f"template '{name}' "
                                   f"({locale}, {channel}): {p.message}") for p in found]
            if not found:
                problems += _date_warnings(file, f"template '{name}' ({locale}, {channel})",
                                           source)
        return problems

    def fields_read(self, name: str, root: str) -> set[str]:
        """The fields of `root` that template `name` reads in any of its files
        (`score.intent.label` -> "intent" for root "score")."""
        folder = self.path / name
        found: set[str] = set()
        for file in sorted(folder.glob("*.j2")) if folder.is_dir() else []:
            found |= fields_read(self._source(file) or "", root, template=True)
        return found

    def _source(self, file: Path) -> str | None:
        if file not in self._sources:
            try:
                self._sources[file] = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                self._sources[file] = None
        return self._sources[file]

    @cached_property
    def _env(self) -> Any:
        return make_environment(loader=FileSystemLoader(str(self.path)), auto_reload=False)

    def render(self, name: str, locale: str | None, ctx: dict[str, Any]) -> RenderedMessage:
        """Render subject and body in the recipient's locale from a runtime context."""
        template = self._env.get_template(f"{name}/{locale_for(locale)}.j2")
        context = template.new_context(flat_context(ctx))
        subject, body = ("".join(template.blocks[b](context)).strip() for b in BLOCKS)
        return RenderedMessage(" ".join(subject.split()), body)
