"""An English-word detector for the French reports (issue 22 §8): which visible text blocks are still English.

A block is a text node of the HTML page (or a line of the Markdown) a reader sees: not the page's
`<style>`, not a tooltip (`<title>`, the `title` attribute). Identifiers are allowed in any language:
control ids, URNs, resource names and types, region codes, digests, file paths, config keys
(`backupSameRegion`), product names, a value as typed in guillemets (« none ») and code
in backticks. What is flagged is an English word that French does not use
("the", "passed", "resource", "not", "and"), in a token that is a word, not part of an identifier.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Common English words that are not French words (so "on", "a", "as", "public", "port", "date" are absent).
ENGLISH_WORDS = frozenset("""
the and not is are was were be been being of to with without from by for its it's this that these those
which who whom whose what when where why how than then there their they them has have had does did doesn't
cannot can't can could should shall would will must may might only any every each all none both either
neither but into onto under over after before because while until upon also just still yet here
passed failed pass fail resource resources finding findings control controls checked examined undetermined
waived waiver waivers mandatory advisory server servers database databases bucket's
buckets' backups backup region enabled disabled set unset open policy policies network
networks private encrypted encryption key keys written read reads kept keeps keep
days day year years hours notified data held holds hold shows show shown
allowed allow admits admit everything nothing something anyone every address addresses missing
unknown known until apply found run ran reports earlier since per
yes no or if in at
""".split())

# A token that is an identifier, not a word: it holds a digit, or one of - _ . : / @ $ = ` #, or a capital
# after its first letter (backupSameRegion, DataPacket), or it is all capitals (SSH, TLS, DPA).
_IDENTIFIER = re.compile(r"[\d\-_.:/@$=`#]|^.+[A-Z]|^[A-Z]{2,}$")
_TOKEN = re.compile(r"[^\s,;()\[\]{}«»\"“”‘’!?]+")


# A value quoted as one word in French guillemets is a value as typed (« none », « udp »), not a word.
# So is code in backticks (`pulumi config set --secret`).
_QUOTED_VALUE = re.compile(r"«\s*\S+\s*»|`[^`]*`")


def english_words(text: str) -> list[str]:
    """The English words of a text, identifiers and quoted values left out."""
    found = []
    for token in _TOKEN.findall(_QUOTED_VALUE.sub(" ", text)):
        word = token.strip("'*|")
        if not word or _IDENTIFIER.search(word):
            continue
        if word.lower() in ENGLISH_WORDS:
            found.append(word)
    return found


class _VisibleText(HTMLParser):
    """The text nodes a reader sees, with the tag path each sits in."""

    _VOID = frozenset({"br", "meta", "link", "rect", "hr", "img", "input", "col", "wbr", "path", "circle", "line"})
    _HIDDEN = frozenset({"style", "script", "title", "head"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.blocks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self._VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self._HIDDEN.intersection(self.open):
            return
        text = " ".join(data.split())
        if text:
            self.blocks.append(text)


def visible_blocks(page: str) -> list[str]:
    """The visible text nodes of an HTML page, in document order."""
    parser = _VisibleText()
    parser.feed(page)
    return parser.blocks


def english_blocks(blocks: list[str]) -> list[str]:
    """The blocks holding an English word, each once, with the words found."""
    return list(dict.fromkeys(f"{block!r}: {english_words(block)}" for block in blocks if english_words(block)))
