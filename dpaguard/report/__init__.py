"""Reporters: one pure `render(result) -> str` per output format, looked up by name.

Only the CLI writes what they return. The text reporter takes an option (`color`), decided by the
CLI from the terminal and NO_COLOR; the text, HTML and Markdown reporters take the report's language
(`lang`, strings in dpaguard/report/i18n.py).
"""

from __future__ import annotations

import importlib
from typing import Callable

from dpaguard.model import Result
from dpaguard.report.i18n import LANGUAGES

# format -> the module whose `render` writes it. A module is imported when its format is asked for:
# the HTML reporter alone was a third of the imports of an audit that writes JSON.
REPORTERS: dict[str, str] = {
    "text": "text",
    "json": "json",
    "sarif": "sarif",
    "junit": "junit",
    "markdown": "markdown",
    "html": "html",
}
FORMATS: tuple[str, ...] = tuple(REPORTERS)
# The format an --output file's extension implies when no --format is given.
EXTENSIONS: dict[str, str] = {
    ".txt": "text", ".json": "json", ".sarif": "sarif", ".xml": "junit", ".md": "markdown",
    ".html": "html", ".htm": "html",
}


def render(format_name: str, result: Result, *, color: bool = False, lang: str = "en") -> str:
    """The result in one format; `color` only affects text, `lang` text, html and markdown."""
    module = importlib.import_module(f"dpaguard.report.{REPORTERS[format_name]}")
    if format_name == "text":
        return str(module.render(result, color=color, lang=lang))
    if format_name in ("html", "markdown"):
        return str(module.render(result, lang=lang))
    reporter: Callable[[Result], str] = module.render
    return reporter(result)


__all__ = ["EXTENSIONS", "FORMATS", "LANGUAGES", "REPORTERS", "render"]
