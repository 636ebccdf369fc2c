"""Role defaults must template before facts exist.

A role's argument spec is validated before its first task, so a default that reads a fact must
survive a play with ``gather_facts: false``: the role gathers what it needs afterwards.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULTS = sorted(ROOT.glob("roles/*/defaults/main.yml"))
FACT = re.compile(r"ansible_facts(?:\['\w+'\]|\.\w+)+(?P<after>[^}]*)")


def test_defaults_found():
    assert len(DEFAULTS) >= 8


@pytest.mark.parametrize("path", DEFAULTS, ids=lambda p: p.parent.parent.name)
def test_fact_defaults_have_a_fallback(path):
    bad = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        for match in FACT.finditer(line):
            if not re.match(r"\s*\|\s*default\(", match.group("after")):
                bad.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bad, "a fact read without | default(...) breaks gather_facts: false:\n" + "\n".join(bad)


@pytest.mark.parametrize("role", ["dovecot", "opendkim", "opendmarc", "postfix", "spf_policy"])
def test_roles_reading_the_fqdn_gather_it(role):
    tasks = "".join(p.read_text() for p in (ROOT / "roles" / role / "tasks").glob("*.yml"))
    assert "when: ansible_facts['fqdn'] is not defined" in tasks
