"""Reading a Markdown table row as a reviewer's renderer does (escaped pipes stay in their cell)."""

from __future__ import annotations


def cells(row: str) -> list[str]:
    cells, current, escaped = [], "", False
    for ch in row.strip()[1:-1]:
        if ch == "|" and not escaped:
            cells.append(current.strip())
            current = ""
            continue
        escaped = ch == "\\" and not escaped
        current += ch
    cells.append(current.strip())
    return cells
