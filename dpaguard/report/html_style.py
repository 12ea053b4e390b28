"""The HTML report's look and its markup primitives: the status colours and symbols, the page's CSS
(screen and A4 print), the running header and page numbers, escaping, the status and grade badges."""

from __future__ import annotations

from html import escape

# Mandatory, advisory and waived are told apart by colour; organisational and not-covered are never green.
_COLOURS: dict[str, str] = {
    "failed": "#c62828", "undetermined": "#1565c0", "advisory": "#e08a00", "waived": "#6a4c93", "passed": "#2e7d32",
    "partly-verified": "#827717", "not-examined": "#b0b7bf", "organisational": "#546e7a", "not-covered": "#37474f",
    "not-applicable": "#8a939c",
}
_SYMBOLS = {"failed": "✗", "undetermined": "?", "advisory": "!", "waived": "~", "passed": "✓",
            "partly-verified": "◐", "not-examined": "–",
            "organisational": "○", "not-covered": "□"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2329;margin:0;background:#f4f6f8}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid #e3e7eb;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}h4{font-size:13px;margin:10px 0 4px}
.verdict{font-size:16px;font-weight:600;padding:10px 14px;border-radius:6px;margin:12px 0}
.verdict.failed{background:#fdecea;color:#8e1c1c}.verdict.advisory{background:#fff4e0;color:#7a4d00}
.verdict.passed{background:#e8f5e9;color:#1b5e20}
#summary{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0 20px;padding:0}
#summary div{flex:1;min-width:120px;border:1px solid #e3e7eb;border-radius:6px;padding:8px 12px}
#summary dt{color:#5b6670;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
#summary dd{margin:0;font-size:24px;font-weight:600}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e7eb;vertical-align:top;overflow-wrap:break-word}
th{background:#f4f6f8;font-weight:600;font-size:13px;overflow-wrap:normal}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:normal}
.status{display:inline-block;padding:1px 7px;border-radius:10px;color:#fff;font-size:12px;font-weight:600;white-space:nowrap}
.status.failed{background:#c62828}.status.advisory{background:#e08a00}.status.waived{background:#6a4c93}
.status.passed{background:#2e7d32}.status.not-examined{background:#8a939c}.status.not-applicable{background:#8a939c}
.status.organisational{background:#546e7a}.status.not-covered{background:#37474f}
.status.undetermined{background:#1565c0}.status.partly-verified{background:#827717}
.grade{display:inline-block;padding:0 6px;border:1px solid #9aa5ae;border-radius:10px;font-size:11px;color:#37474f;white-space:nowrap}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all}
.muted{color:#5b6670}.clause{border-left:4px solid #e3e7eb;padding-left:14px;margin-top:22px}
.clause.failed{border-color:#c62828}.clause.advisory{border-color:#e08a00}.clause.waived{border-color:#6a4c93}
.clause.passed{border-color:#2e7d32}.clause.undetermined{border-color:#1565c0}.clause.partly-verified{border-color:#827717}.clause.organisational{border-color:#546e7a}.clause.not-covered{border-color:#37474f}
blockquote{margin:6px 0;padding:4px 10px;border-left:3px solid #cfd6dc;color:#37474f;font-style:italic}
dl.evidence{margin:6px 0}dl.evidence>div{display:grid;grid-template-columns:minmax(9em,28%) 1fr;gap:4px 16px;padding:2px 0}
dl.evidence dt{color:#5b6670}dl.evidence dd{margin:0;min-width:0}.notice{background:#fff4e0;border-left:4px solid #ef9f00;padding:6px 10px;margin:6px 0}
.dirty{color:#8e1c1c;font-weight:600}
svg{max-width:100%;height:auto}svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
#signatures td{height:42px;border-bottom:1px solid #1d2329}#signatures th{width:22%;background:none}
#attestation{font-size:15px;border:1px solid #9aa5ae;border-radius:6px;padding:10px 14px}
.grid-part{display:block;margin:0 0 4px}
@page{size:A4;margin:16mm 12mm 15mm}
@media print{
body{background:#fff;font-size:10.5px}main{max-width:none;padding:0}
h1,h2,h3,h4{break-after:avoid;break-inside:avoid}thead{display:table-header-group}
tr,blockquote,.grid-part,dl.evidence>div,#summary,.verdict,.notice{break-inside:avoid}
th,td{padding:3px 5px}code,.mono{font-size:9.5px}
.status,.grade{white-space:normal;font-size:9.5px}
.clause h3+*{break-before:avoid}
#signoff{break-before:page}#signatures,#attestation{break-inside:avoid}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def _page_css(report: str, t: dict[str, str]) -> str:
    """The running header (the report id) and the page numbers, in the page margins when printed."""
    def text(value: str) -> str:  # a CSS string
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    before, _, rest = t["page_of"].partition("{page}")
    middle, _, after = rest.partition("{pages}")
    numbers = " ".join(p for p in (text(before) if before else "", "counter(page)", text(middle) if middle else "",
                                   "counter(pages)", text(after) if after else "") if p)
    return ("@page{@top-left{content:" + text(t["running_header"].format(report_id=report)) +
            # no ligatures, so the id copied from a printed page reads as it is ("ff", not "ﬀ"): Chromium
            # ignores font-variant-ligatures in a margin box but draws no ligature across letter spacing
            ";font:8px system-ui,sans-serif;letter-spacing:.02em;color:#5b6670}"
            "@bottom-right{content:" + numbers + ";font:8px system-ui,sans-serif;color:#5b6670}}")


def _e(value: object) -> str:
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in str(value))
    return escape(text, quote=True)


def _status(status: str, t: dict[str, str], of: str = "st_") -> str:
    # `of` "ctl_": a control's state, where French agrees with "contrôle" (vérifié), not "clause" (vérifiée)
    label = t.get(f"{of}{status}") or t.get(f"st_{status}", status.replace("-", " "))
    return f'<span class="status {_e(status)}">{_e(label)}</span>'


def _grade(grade: str, t: dict[str, str]) -> str:
    return f'<span class="grade" data-grade="{_e(grade)}">{_e(t.get(f"gr_{grade}", grade))}</span>'


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
