"""Message templates: `templates/<name>/<locale>.j2`, each with a `subject` and a `body` block.

A channel that formats messages (WeCom markdown, e-mail HTML) may have its own variant,
`<name>/<locale>.<channel>.j2`, whose `body` block it sends instead; the `<locale>.j2` text is
what every channel falls back to and what the inbox shows. E-mail variants are HTML and are
autoescaped, so an employee's name cannot inject markup.

One sandboxed environment per templates folder and process: templates are compiled once and
cached by Jinja2. StrictUndefined turns a misspelt name into an error instead of a blank in a
message an employee reads.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, Template, TemplateNotFound
from temporalio.exceptions import ApplicationError

from wendu.rules.expressions import make_environment

FALLBACK_LOCALES = ("zh-CN", "en")


class TemplateProblem(ApplicationError):
    """A template is missing or does not render: retrying cannot help."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="TemplateError", non_retryable=True)


class TemplateRenderer:
    def __init__(self, templates_dir: Path | str) -> None:
        self.templates_dir = Path(templates_dir)
        # The rule language's sandboxed, StrictUndefined environment with its filters, so a
        # template renders here exactly as the compiler checked it. No autoescape: messages
        # are plain text; each channel escapes for its medium.
        self.env = make_environment(
            loader=FileSystemLoader(str(self.templates_dir)), auto_reload=False,
            autoescape=_is_html,
        )

    def pick(self, template: str, locale: str | None) -> tuple[str, Template]:
        """The template in the recipient's locale (or its language), else zh-CN, else en."""
        tried: list[str] = []
        language = locale.split("-")[0] if locale else None
        for candidate in (locale, language, *FALLBACK_LOCALES):
            if not candidate or candidate in tried:
                continue
            tried.append(candidate)
            try:
                return candidate, self.env.get_template(f"{template}/{candidate}.j2")
            except TemplateNotFound:
                continue
        raise TemplateProblem(
            f"template {template!r} not found in {self.templates_dir} "
            f"(looked for {', '.join(f'{template}/{t}.j2' for t in tried)})"
        )

    def render(
        self, template: str, locale: str | None, ctx: dict[str, Any]
    ) -> tuple[str, str, str]:
        """(locale used, subject, body)."""
        used, tmpl = self.pick(template, locale)
        try:
            context = tmpl.new_context(ctx)
            subject = "".join(tmpl.blocks["subject"](context)) if "subject" in tmpl.blocks else ""
            subject = " ".join(subject.split())  # one line, whatever the template's layout
            body = "".join(tmpl.blocks["body"](context)).strip() if "body" in tmpl.blocks else ""
        except Exception as err:  # StrictUndefined, a filter's TypeError: the template's fault
            raise TemplateProblem(f"template {template}/{used}.j2: {err}") from err
        if not subject and not body:
            raise TemplateProblem(f"template {template}/{used}.j2 defines no subject or body block")
        return used, subject, body


    def variant(self, template: str, locale: str, channel: str, ctx: dict[str, Any]) -> str:
        """The body of `<template>/<locale>.<channel>.j2` (locale as `render` chose it), or ""
        when the template has no variant for that channel."""
        name = f"{template}/{locale}.{channel}.j2"
        try:
            tmpl = self.env.get_template(name)
        except TemplateNotFound:
            return ""
        try:
            context = tmpl.new_context(ctx)
            return "".join(tmpl.blocks["body"](context)).strip() if "body" in tmpl.blocks else ""
        except Exception as err:
            raise TemplateProblem(f"template {name}: {err}") from err


def _is_html(name: str | None) -> bool:
    return bool(name) and name.endswith(HTML_VARIANTS)


HTML_VARIANTS = (".email.j2",)


@lru_cache(maxsize=8)
def get_renderer(templates_dir: str) -> TemplateRenderer:
    """The process-wide renderer of a templates folder."""
    return TemplateRenderer(templates_dir)


def render_message(
    template: str, locale: str | None, ctx: dict[str, Any], templates_dir: Path | str | None = None
) -> tuple[str, str]:
    """(subject, body) of `template` for `locale`, with the zh-CN then en fallback."""
    if templates_dir is None:
        from wendu.settings import get_settings

        templates_dir = get_settings().templates_path
    _, subject, body = get_renderer(str(templates_dir)).render(template, locale, ctx)
    return subject, body
