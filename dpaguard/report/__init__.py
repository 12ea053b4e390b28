"""Reporters: one pure `render(result) -> str` per output format, looked up by name.

Only the CLI writes what they return. The text reporter takes an option (`color`), decided by the
CLI from the terminal and NO_COLOR; the HTML and Markdown reporters take the report's language
(`lang`, strings in dpaguard/report/i18n.py).
"""

from __future__ import annotations

from typing import Callable

from dpaguard.model import Result
from dpaguard.report import html, json, junit, markdown, sarif, text
from dpaguard.report.i18n import LANGUAGES
from dpaguard.report.interface import Reporter

REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "html": html.render,
}
FORMATS: tuple[str, ...] = tuple(REPORTERS)
# The format an --output file's extension implies when no --format is given.
EXTENSIONS: dict[str, str] = {
    ".txt": "text", ".json": "json", ".sarif": "sarif", ".xml": "junit", ".md": "markdown",
    ".html": "html", ".htm": "html",
}


def render(format_name: str, result: Result, *, color: bool = False, lang: str = "en") -> str:
    """The result in one format; `color` only affects text, `lang` html and markdown."""
    if format_name == "text":
        return text.render(result, color=color)
    if format_name == "html":
        return html.render(result, lang=lang)
    if format_name == "markdown":
        return markdown.render(result, lang=lang)
    reporter: Callable[[Result], str] = REPORTERS[format_name]
    return reporter(result)


__all__ = ["EXTENSIONS", "FORMATS", "LANGUAGES", "REPORTERS", "render"]
