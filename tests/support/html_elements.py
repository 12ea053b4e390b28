"""The elements and text of an HTML page, for the HTML report's tests (tests/report, tests/cli)."""

from __future__ import annotations

from html.parser import HTMLParser


class Elements(HTMLParser):
    """Every element's tag and attributes, in document order, and the page's text."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, attribute: str, tag: str | None = None) -> list[dict[str, str]]:
        """The attributes of every element (of `tag`, when given) that has `attribute`."""
        return [a for t, a in self.elements if attribute in a and (tag is None or t == tag)]
