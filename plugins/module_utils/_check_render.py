# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The three renderings of playbooks/check.yml's report (see _check_report): JSON for pipelines,
Markdown, and a self-contained HTML page (inline CSS, no script, every text escaped)."""

from __future__ import annotations

import html
import json
import typing as t

from ansible_collections.mailauth.core.plugins.module_utils import _input

WORDS = {"ok": "OK", "warning": "WARNING", "error": "ERROR"}
# Colour and word: the badge says the severity in text too (never colour alone).
_COLOURS = {"ok": ("#e6f4ea", "#137333"), "warning": ("#fef7e0", "#8a5a00"), "error": ("#fce8e6", "#a50e0e")}
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#202124;max-width:1200px}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border-bottom:1px solid #dadce0;padding:.5rem;text-align:left;vertical-align:top;
  overflow-wrap:anywhere;word-break:break-word}
th.d{width:22%}th.s{width:9rem}
.badge{display:inline-block;padding:.15rem .5rem;border-radius:.25rem;font-weight:700}
code{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-all}
ul{margin:.25rem 0;padding-left:1.2rem}
details summary{cursor:pointer}
"""


def to_json(report: t.Mapping[str, t.Any]) -> str:
    """The report as JSON: sorted keys, two-space indent, a final newline (stable for diffs)."""
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _md(text: t.Any) -> str:
    """Text for a Markdown table cell: no line breaks, pipes and markup characters escaped."""
    value = " ".join(str(text).split())
    for char in "\\`*_[]<>|":
        value = value.replace(char, "\\" + char)
    return value


def _lookups(domain: t.Mapping[str, t.Any]) -> str:
    lookups = domain["spf"]["lookups"]
    return "-" if lookups is None else "%d/10" % lookups


def _selector_text(item: t.Mapping[str, t.Any]) -> str:
    match = {True: "key matches DNS", False: "key does NOT match DNS", None: "not compared"}[item["key_match"]]
    if item["state"] == "revoked":
        match = "served revoked" if item["served"] and all(item["served"].values()) else "NOT revoked everywhere"
    return "%s (%s, %s, %s)" % (item["selector"], item["state"], item["key_type"] or "?", match)


def to_markdown(report: t.Mapping[str, t.Any]) -> str:
    """One table row per domain, then the problems of each domain that has any."""
    summary = report["summary"]
    lines = [
        "# mailauth.core check report",
        "",
        "Generated %s: %d domain(s), %d error, %d warning, %d OK."
        % (_md(report["generated"] or "-"), summary["domains"], summary["error"], summary["warning"], summary["ok"]),
        "",
        "| Domain | Status | SPF lookups | DKIM selectors | Problems |",
        "| --- | --- | --- | --- | --- |",
    ]
    for domain in report["domains"]:
        selectors = ", ".join(_selector_text(s) for s in domain["selectors"]) or "-"
        lines.append(
            "| %s | **%s** | %s | %s | %d |"
            % (
                _md(domain["name"]),
                WORDS[domain["severity"]],
                _lookups(domain),
                _md(selectors),
                len(domain["problems"]),
            )
        )
    for domain in report["domains"]:
        if not domain["problems"]:
            continue
        lines += ["", "## %s (%s)" % (_md(domain["name"]), WORDS[domain["severity"]]), ""]
        for problem in domain["problems"]:
            lines.append(
                "- **%s** %s: %s" % (WORDS[problem["severity"]], _md(problem["record"]), _md(problem["message"]))
            )
    return "\n".join(lines) + "\n"


def _e(text: t.Any) -> str:
    return html.escape(str(text), quote=True)


def _badge(severity: str) -> str:
    background, colour = _COLOURS[severity]
    return '<span class="badge" style="background:%s;color:%s">%s</span>' % (background, colour, WORDS[severity])


def _details(domain: t.Mapping[str, t.Any]) -> str:
    parts = []
    if domain["problems"]:
        items = "".join(
            "<li>%s <code>%s</code> %s</li>" % (_badge(p["severity"]), _e(p["record"]), _e(p["message"]))
            for p in domain["problems"]
        )
        parts.append("<ul>%s</ul>" % items)
    records = ["<li>SPF: %s</li>" % (", ".join("<code>%s</code>" % _e(r) for r in domain["spf"]["records"]) or "-")]
    records.append(
        "<li>DMARC: %s</li>" % (", ".join("<code>%s</code>" % _e(r) for r in domain["dmarc"]["records"]) or "-")
    )
    for item in domain["selectors"]:
        records.append(
            "<li>DKIM %s, fingerprint <code>%s</code></li>" % (_e(_selector_text(item)), _e(item["fingerprint"] or "-"))
        )
    servers = ", ".join("%s (%s)" % (_e(ns["name"]), _e(ns["address"])) for ns in domain["nameservers"]) or "-"
    records.append("<li>Nameservers: %s</li>" % servers)
    parts.append("<details><summary>Records</summary><ul>%s</ul></details>" % "".join(records))
    return "".join(parts)


def to_html(report: t.Mapping[str, t.Any]) -> str:
    """A self-contained page: one row per domain, severity as a coloured word, details folded below."""
    summary = report["summary"]
    rows = "".join(
        '<tr id="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>'
        % (_e(d["name"]), _e(d["name"]), _badge(d["severity"]), _e(_lookups(d)), _details(d))
        for d in report["domains"]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>mailauth.core check report</title><style>%s</style></head><body>"
        "<h1>mailauth.core check report</h1>"
        "<p>Generated %s: %d domain(s), %s %d, %s %d, %s %d.</p>"
        '<table><thead><tr><th class="d">Domain</th><th class="s">Status</th><th class="s">SPF lookups</th>'
        "<th>Problems and records</th></tr></thead><tbody>%s</tbody></table></body></html>\n"
        % (
            _CSS,
            _e(report["generated"] or "-"),
            summary["domains"],
            _badge("error"),
            summary["error"],
            _badge("warning"),
            summary["warning"],
            _badge("ok"),
            summary["ok"],
            rows,
        )
    )


RENDERERS = {"json": to_json, "markdown": to_markdown, "html": to_html}

# The files of the report in its directory, one per rendering.
FILE_NAMES = {"json": "report.json", "markdown": "report.md", "html": "report.html"}


def report_files(report: t.Mapping[str, t.Any], report_dir: t.Any, field: str = "report_dir") -> list[dict]:
    """``[{path, content}]``: the three renderings under ``report_dir`` (validated: text, no control characters)."""
    directory = _input.text(report_dir, field).rstrip("/") or "/"
    return [
        {"format": fmt, "path": "%s/%s" % (directory, name), "content": RENDERERS[fmt](report)}
        for fmt, name in FILE_NAMES.items()
    ]
