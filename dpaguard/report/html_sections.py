"""The HTML report's run-wide sections: the stacks and environments, the inventory, the stages, the scope,
the evidence, what changed since the baseline, and the sign-off."""

from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable

from dpaguard.inventory import site_names
from dpaguard.model import Finding, Result
from dpaguard.report._shared import inventory, shown_path, stack_label
from dpaguard.report.html_style import _e, _status
from dpaguard.report.i18n import format_date
from dpaguard.report.json import result_json, scope_json  # the report quotes the JSON document's scope and id


def _counts(findings: Iterable[Finding]) -> dict[str, int]:
    items = list(findings)
    return {
        "mandatory": sum(1 for f in items if not f.waived and f.enforcement == "mandatory"),
        "advisory": sum(1 for f in items if not f.waived and f.enforcement == "advisory"),
        "waived": sum(1 for f in items if f.waived),
    }


def _overview(result: Result, t: dict[str, str]) -> str:
    rows = []
    for stack in result.stacks:
        counts = _counts(f for f in result.findings if f.stack == stack.name)
        rows.append(f'<tr class="stack" data-stack="{_e(stack.name)}" data-environment="{_e(stack.environment)}" '
                    f'data-resources="{stack.resources}" data-mandatory="{counts["mandatory"]}" '
                    f'data-advisory="{counts["advisory"]}" data-waived="{counts["waived"]}">'
                    f"<td>{_e(stack.name)}</td><td>{_e(stack.environment)}</td><td>{_e(t.get('src_' + stack.source, stack.source))}</td>"
                    f'<td class="num">{stack.resources}</td><td class="num">{counts["mandatory"]}</td>'
                    f'<td class="num">{counts["advisory"]}</td><td class="num">{counts["waived"]}</td></tr>')
    environments: dict[str, list[str]] = {}
    for stack in result.stacks:
        environments.setdefault(stack.environment, []).append(stack.name)
    env_rows = []
    for environment, names in environments.items():
        counts = _counts(f for f in result.findings if f.stack in names)
        resources = sum(s.resources for s in result.stacks if s.name in names)
        env_rows.append(f'<tr class="environment" data-environment="{_e(environment)}" data-resources="{resources}" '
                        f'data-mandatory="{counts["mandatory"]}" data-advisory="{counts["advisory"]}" '
                        f'data-waived="{counts["waived"]}"><td>{_e(environment)}</td><td>{_e(", ".join(names))}</td>'
                        f'<td class="num">{resources}</td><td class="num">{counts["mandatory"]}</td>'
                        f'<td class="num">{counts["advisory"]}</td><td class="num">{counts["waived"]}</td></tr>')
    numbers = "".join(f'<th class="num">{_e(t[k])}</th>' for k in ("resources", "mandatory", "advisory", "waived"))
    return (f"<h2>{_e(t['stacks'])}</h2><table id=\"stacks\"><thead><tr><th>{_e(t['stack'])}</th>"
            f"<th>{_e(t['environment'])}</th><th>{_e(t['source'])}</th>{numbers}</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>"
            f"<h2>{_e(t['environments'])}</h2><table id=\"environments\"><thead><tr><th>{_e(t['environment'])}</th>"
            f"<th>{_e(t['stacks'])}</th>{numbers}</tr></thead><tbody>" + "".join(env_rows) + "</tbody></table>")


def _inventory(result: Result, stacks: list[str], t: dict[str, str], tr: Callable[[str], str]) -> str:
    used, places, unused, sites_unseen = inventory(result)
    real = [s.name for s in result.stacks]
    head = "".join(f'<th class="num">{_e(s)}</th>' for s in real) + f'<th class="num">{_e(t["total"])}</th>'

    def yes(flag: bool | None) -> str:
        return t["unknown"] if flag is None else t["yes"] if flag else t["no"]

    def counts(row_resources: dict[str, int]) -> str:
        return "".join(f'<td class="num">{row_resources.get(s, 0)}</td>' for s in real) + \
            f'<td class="num">{sum(row_resources.values())}</td>'

    processors = "".join(
        f'<tr class="subprocessor" data-name="{_e(r.name)}" data-listed="{_e(yes(r.listed))}" data-total="{r.total}">'
        f"<td>{_e(r.name)}</td><td>{_e(yes(r.listed))}</td><td>{_e(tr(r.detail))}</td><td>{_e(r.country or '')}</td>"
        f"{counts(r.resources)}</tr>" for r in used)
    locations = "".join(
        f'<tr class="location" data-name="{_e(r.name)}" data-named="{_e(t["in_part"] if r.partly else yes(r.listed))}" '
        f'data-total="{r.total}">'
        f"<td>{_e(r.name)}</td><td>{_e(r.country or t['unknown'])}</td><td>{_e(t['sites_or'].join(site_names(r.detail)) if r.detail else t['unknown'])}</td>"
        f"<td>{_e(t['in_part'] if r.partly else yes(r.listed))}</td>{counts(r.resources)}</tr>" for r in places)
    return (f'<h2 id="inventory-heading">{_e(t["inventory"])}</h2><div id="inventory"><p class="muted">{_e(t["inventory_intro"])}</p>'
            f"<h3>{_e(t['subprocessors'])}</h3><table id=\"inventory-subprocessors\"><thead><tr>"
            f"<th>{_e(t['subprocessor'])}</th><th>{_e(t['listed'])}</th><th>{_e(t['service'])}</th>"
            f"<th>{_e(t['country'])}</th>{head}</tr></thead><tbody>{processors}</tbody></table>"
            f'<p id="inventory-unused" data-count="{len(unused)}"><strong>{_e(t["listed_unused"])}</strong> ({len(unused)}){t["colon"]}'
            f'{_e(", ".join(unused) or t["none"])}</p>'
            f"<h3>{_e(t['locations'])}</h3><table id=\"inventory-locations\"><thead><tr>"
            f"<th>{_e(t['location'])}</th><th>{_e(t['country'])}</th><th>{_e(t['site'])}</th><th>{_e(t['named'])}</th>"
            f"{head}</tr></thead><tbody>{locations}</tbody></table>"
            f'<p id="inventory-sites-unseen" data-count="{len(sites_unseen)}"><strong>{_e(t["sites_unused"])}</strong>{t["colon"]}'
            f'{_e(", ".join(sites_unseen) or t["none"])}</p></div>')


def _stages(result: Result, t: dict[str, str], tr: Callable[[str], str]) -> str:
    rows = "".join(
        f'<tr data-stage="{_e(s.name)}" data-ran="{str(s.ran).lower()}"><td>{_e(t.get("stage_" + s.name, s.name))}</td>'
        f"<td>{_status('passed' if s.ran else 'not-examined', {'st_passed': t['ran'], 'st_not-examined': t['not_run']})}</td>"
        f"<td>{_e(tr(s.detail))}</td></tr>" for s in result.stages)
    return (f"<h2>{_e(t['stages'])}</h2><table id=\"stages\"><thead><tr><th>{_e(t['stage'])}</th>"
            f"<th style=\"width:14%\">{_e(t['status'])}</th><th></th></tr></thead><tbody>{rows}</tbody></table>")


def _evidence(result: Result, t: dict[str, str], lang: str = "en") -> str:
    stacks = "".join(
        f'<li data-stack="{_e(s.name)}"><strong>{_e(s.name)}</strong> ({_e(t.get("src_" + s.source, s.source))}){t["colon"]}'
        f"<code>{_e(shown_path(s.config_file or s.origin) or t['no_config_file'])}</code>"
        + (f' {_e(t["config_digest"])} <code class="digest">{_e(s.config_sha256)}</code>' if s.config_sha256 else "")
        + (f'<br>{_e(t["deployment_digest"])} <code class="deployment-digest" data-stack="{_e(s.name)}">'
           f"{_e(s.deployment_sha256)}</code>" if s.deployment_sha256 else "") + "</li>"
        for s in result.stacks)
    if result.git_dirty is None:
        tree = f'<dd id="evidence-dirty" data-dirty="unknown">{_e(t["not_git"])}</dd>'
    elif result.git_dirty:
        tree = (f'<dd id="evidence-dirty" data-dirty="true" class="dirty">{_e(t["modified"])} '
                f'<code id="evidence-diff">{_e(result.git_diff_sha256 or "")}</code></dd>')
    else:
        tree = f'<dd id="evidence-dirty" data-dirty="false">{_e(t["clean"])}</dd>'
    versions = ", ".join(f"{name} {version or t['not_available']}" for name, version in result.versions.items())
    # A stack export records no commit and no packages: in an audit these are dpaguard's, not the estate's.
    audit = bool(result.stacks) and all(s.source == "state" for s in result.stacks)
    commit_key, versions_key = ("checker_commit", "checker_versions") if audit else ("git_commit", "versions")
    return (f'<h2>{_e(t["evidence"])}</h2><dl class="evidence" id="evidence">'
            f'<div><dt>{_e(t["tool"])}</dt><dd id="evidence-tool">dpaguard {_e(result.tool_version)}</dd></div>'
            f'<div><dt>{_e(t["policy_digest"])}</dt><dd><code id="evidence-policy">{_e(result.policy_sha256)}</code></dd></div>'
            f'<div><dt>{_e(t["engine"])}</dt><dd id="evidence-engine">{_e(result.engine or t["not_recorded"])}</dd></div>'
            f'<div><dt>{_e(t[commit_key])}</dt><dd><code id="evidence-commit">{_e(result.git_commit or t["not_available"])}</code></dd></div>'
            f'<div><dt>{_e(t["work_tree"])}</dt>{tree}</div>'
            f'<div><dt>{_e(t["generated"])}</dt><dd id="evidence-time">{_e(format_date(result.generated_at, lang) or t["not_recorded"])}</dd></div>'
            f'<div><dt>{_e(t[versions_key])}</dt><dd id="evidence-versions">{_e(versions or t["not_recorded"])}</dd></div>'
            f"<div><dt>{_e(t['stacks'])}</dt><dd><ul>{stacks}</ul></dd></div></dl>")


def _scope(result: Result, lang: str, t: dict[str, str]) -> str:
    """The scope block: what was examined, by what, against what, and the report's id (the JSON report's digest)."""
    scope = scope_json(result)
    report = result_json(result)["reportId"]

    def row(key: str, value: str, ident: str, code: bool = False) -> str:
        shown = f"<code>{_e(value)}</code>" if code else _e(value)
        return f'<div><dt>{_e(t[key])}</dt><dd id="scope-{ident}">{shown}</dd></div>'

    stacks = []
    for stack in scope["stacks"]:
        if stack["source"] == "state":
            made = t["scope_state"].format(time=format_date(stack["stateTime"], lang) if stack["stateTime"] else t["not_recorded"],
                                           version=stack["statePulumiVersion"] or t["not_recorded"])
        else:
            made = t["scope_program"]
        stacks.append(f'<li data-stack="{_e(stack["name"])}" data-source="{_e(stack["source"])}"><strong>'
                      f'{_e(stack["name"])}</strong> ({_e(stack["environment"])}){t["colon"]}{_e(made)}'
                      + (f' · <code>{_e(stack["from"])}</code>' if stack["from"] else "") + "</li>")
    commit = scope["estateCommit"] or (t["scope_no_commit_state"] if result.stacks and not any(
        s.source == "program" for s in result.stacks) else t["not_available"])
    if scope["estateWorkTree"] == "modified":
        commit += f" ({t['scope_modified']})"
    engine = scope["dpaguard"]["engine"] or t["not_recorded"]
    checker = f"dpaguard {result.tool_version} · {engine}"
    if scope["dpaguard"]["workTreeCommit"]:
        checker += f" · {t['scope_checker_commit']} {scope['dpaguard']['workTreeCommit']}"
    return (f'<section id="scope"><h2>{_e(t["scope"])}</h2><dl class="evidence">'
            + row("scope_projects", ", ".join(scope["projects"]) or t["none"], "projects")
            + row("scope_commit", commit, "commit", bool(scope["estateCommit"]))
            + f'<div><dt>{_e(t["stacks"])}</dt><dd id="scope-stacks"><ul>{"".join(stacks)}</ul></dd></div>'
            + row("policy_digest", result.policy_sha256, "policy", True)
            + row("scope_dpa", scope["dpaSha256"] or t["scope_dpa_missing"], "dpa", bool(scope["dpaSha256"]))
            + row("tool", checker, "tool")
            + row("scope_today", format_date(scope["waiversJudgedOn"], lang) if scope["waiversJudgedOn"]
                  else t["not_recorded"], "today")
            + row("scope_report_id", report, "report-id", True)
            + "</dl></section>")


def _signoff(result: Result, report: str, lang: str, t: dict[str, str]) -> str:
    """The attestation the signer makes, the exceptions accepted (the waivers in force) and the signature block."""
    today = result.today.isoformat() if result.today else ""
    in_force = [w for w in result.waivers if not today or w.expires.isoformat() >= today]
    if in_force:
        rows = "".join(
            f'<tr class="exception" data-control="{_e(w.control)}" data-stack="{_e(w.stack)}" data-urn="{_e(w.urn_pattern)}" '
            f'data-reference="{_e(w.reference)}" data-expires="{_e(w.expires.isoformat())}">'
            f'<td><code>{_e(w.control)}</code><br>{_e(stack_label(w.stack))}</td>'
            f'<td><span class="mono">{_e(w.urn_pattern)}</span></td>'
            f'<td lang="en">{_e(w.reason)}'
            + (f'<br><strong>{_e(t["compensating"])}:</strong> <span class="compensating" lang="en">{_e(w.compensating)}</span>'
               if w.compensating else "")
            + f'</td><td>{_e(w.approver)}'
            + (f'<br>{_e(t["approved"])} {_e(format_date(w.approved.isoformat(), lang))}' if w.approved else "")
            + (f'<br>{_e(t["reference"])} <code>{_e(w.reference)}</code>' if w.reference else "")
            + f'</td><td>{_e(format_date(w.expires.isoformat(), lang))}</td></tr>' for w in in_force)
        exceptions = (f'<table id="exceptions"><thead><tr><th style="width:16%">{_e(t["control"])}</th>'
                      f'<th style="width:24%">{_e(t["resource"])}</th><th>{_e(t["reason"])}</th>'
                      f'<th style="width:20%">{_e(t["approver"])}</th><th style="width:12%">{_e(t["expires"])}</th></tr></thead>'
                      f"<tbody>{rows}</tbody></table>")
    else:
        exceptions = f'<p id="exceptions" class="muted">{_e(t["no_exceptions"])}</p>'
    signatures = "".join(f"<tr><th>{_e(t[k])}</th><td></td></tr>" for k in ("name", "role", "date", "signature"))
    return (f'<section id="signoff" data-report-id="{_e(report)}"><h2>{_e(t["signoff"])}</h2>'
            f'<p id="attestation">{_e(t["attestation"].format(report_id=report))}</p>'
            f'<h3>{_e(t["exceptions"].format(today=format_date(today, lang)))}</h3>{exceptions}'
            f'<p>{_e(t["signoff_intro"])}</p><table id="signatures">{signatures}</table></section>')


def _changes(result: Result, lang: str, t: dict[str, str]) -> str:
    """What changed since --baseline: findings, waivers, the ledger, the catalogue; one line without a baseline."""
    changes = result.changes
    head = f'<section id="changes"><h2>{_e(t["changes"])}</h2>'
    if changes is None:
        return head + f'<p class="muted">{_e(t["changes_none_run"])}</p></section>'
    when = ", ".join(p for p in (format_date(changes.generated_at or "", lang),
                                 changes.git_commit and f"commit {changes.git_commit[:12]}") if p)
    parts = [head, f'<p id="changes-baseline">{_e(t["changes_baseline"].format(baseline=changes.baseline, when=when))}</p>']
    if not changes.waivers_recorded:
        parts.append(f'<p class="muted">{_e(t["changes_waivers_unrecorded"])}</p>')
    if not changes.items:
        parts.append(f'<p class="muted">{_e(t["changes_none"])}</p>')
    else:
        counts = Counter(c.kind for c in changes.items)
        parts.append('<p id="changes-counts">' + " · ".join(
            f'<span data-kind="{_e(k)}" data-count="{n}">{_e(t["chg_" + k])}: {n}</span>'
            for k, n in counts.items()) + "</p>")
        rows = "".join(
            f'<tr class="change" data-kind="{_e(c.kind)}" data-subject="{_e(c.subject)}" data-stack="{_e(c.stack)}" '
            f'data-urn="{_e(c.urn)}"><td>{_e(t["chg_" + c.kind])}</td><td><code>{_e(c.subject)}</code>'
            + (f"<br>{_e(stack_label(c.stack))}" if c.stack else "")
            + (f'<br><span class="mono muted">{_e(c.urn)}</span>' if c.urn else "")
            + f'</td><td lang="en">{_e(c.before)}</td><td lang="en">{_e(c.after)}</td></tr>' for c in changes.items)
        parts.append(f'<table id="changes-table"><thead><tr><th style="width:16%">{_e(t["change"])}</th>'
                     f'<th style="width:30%">{_e(t["subject"])}</th><th>{_e(t["before"])}</th><th>{_e(t["after"])}</th>'
                     f"</tr></thead><tbody>{rows}</tbody></table>")
    parts.append(f'<p class="muted">{_e(t["changes_gate"])}</p></section>')
    return "".join(parts)
