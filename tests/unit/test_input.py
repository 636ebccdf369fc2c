# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The input layer's own validators: full matches, control characters, the field named in every message."""

from __future__ import annotations

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _input

NL = "\n"


@pytest.mark.parametrize(
    ("func", "args", "value", "expected"),
    [
        (_input.domain, (), "Example.TEST.", "example.test"),
        (_input.domain, (), "bücher.example", "xn--bcher-kva.example"),
        (_input.selector, (), "S2026.mx1", "s2026.mx1"),
        (_input.email, (), "Dmarc.Reports@Example.test", "Dmarc.Reports@example.test"),
        (_input.smtp_reply_code, (), "550", 550),
        (_input.smtp_reply_code, ("4",), 451, 451),
        (_input.host_or_network, (), "[::1]", "[::1]"),
        (_input.host_or_network, (), "mail.example.test", "mail.example.test"),
        (_input.absolute_path, (), "/etc//dkimkeys/", "/etc/dkimkeys"),
        (_input.enhanced_status_code, (), "5.7.23", "5.7.23"),
        (_input.enhanced_status_code, ("4",), "4.7.24", "4.7.24"),
        (_input.authserv_id, (), "MX2.Example.NET", "mx2.example.net"),
        (_input.authserv_id, (), "mx2", "mx2"),
        (_input.match, (), "abc", "abc"),
    ],
)
def test_accepts(func, args, value, expected):
    if func is _input.match:
        assert _input.match(r"[a-c]+", value, "f", "letters a-c") == expected
    else:
        assert func(value, "f", *args) == expected


@pytest.mark.parametrize(
    ("func", "args", "value", "words"),
    [
        (_input.domain, (), "example.test" + NL, "control characters"),
        (_input.domain, (), "example.test\r", "control characters"),
        (_input.domain, (), "example.test\x85", "control characters"),
        (_input.domain, (), "ex ample.test", "space"),
        (_input.domain, (), "example", "at least 2 labels"),
        (_input.domain, (), "example..test", "empty label"),
        (_input.selector, (), "s1._domainkey", "without _domainkey"),
        (_input.selector, (), "s1.", "no trailing dot"),
        (_input.email, (), "no-at-sign.example", "local@domain"),
        (_input.email, (), "a..b@example.test", "local@domain"),
        (_input.email, (), "a@example.test" + NL + "Bcc: x@y.example", "control characters"),
        (_input.smtp_reply_code, (), "250", "SMTP reply code"),
        (_input.smtp_reply_code, (), 599, "second digit"),
        (_input.smtp_reply_code, (), "55O", "SMTP reply code"),
        (_input.smtp_reply_code, (), True, "SMTP reply code"),
        (_input.smtp_reply_code, ("4",), 550, "SMTP reply code 4xx"),
        (_input.network, (), "::/0", "every address"),
        (_input.enhanced_status_code, (), "5.7", "enhanced status code"),
        (_input.enhanced_status_code, (), "5.7.23" + NL, "control characters"),
        (_input.enhanced_status_code, ("4",), "5.7.23", "must start with 4"),
        (_input.authserv_id, (), "mx2.example.net; dkim=pass", "space"),
        (_input.authserv_id, (), "mx2;x", "DNS label"),
        (_input.network, (), "192.0.2.0/24" + NL, "control characters"),
        (_input.absolute_path, (), "/etc/../root", "'..'"),
        (_input.text, (), "   ", "must not be empty"),
        (_input.string_list, (), "a,b", "must be a list"),
        (_input.choice, (("a", "b"),), "c", "one of a, b"),
    ],
)
def test_refuses_naming_the_field(func, args, value, words):
    with pytest.raises(_input.InputError) as err:
        func(value, "the_field", *args)
    assert str(err.value).startswith("the_field") and words in str(err.value), str(err.value)


def test_match_is_a_full_match():
    """A `$` would match before a final newline; the layer's match must not."""
    with pytest.raises(_input.InputError, match="control characters"):
        _input.match(r"[a-z]+$", "abc" + NL, "f", "letters")
    with pytest.raises(_input.InputError, match="must be letters"):
        _input.match(r"[a-z]+", "abc1", "f", "letters")


# -- host_port: one checker for Postfix's host[:port] values, the bracket rule a parameter -------------------------


@pytest.mark.parametrize(
    ("value", "brackets", "port_required", "expected"),
    [
        # a next hop (relayhost): brackets hold a name or an address, a bare host is a name, the port optional
        ("smtp.example.net", "any", False, ("smtp.example.net", None)),
        ("smtp.example.net:587", "any", False, ("smtp.example.net", 587)),
        ("[smtp.example.net]:587", "any", False, ("smtp.example.net", 587)),
        ("[192.0.2.25]", "any", False, ("192.0.2.25", None)),
        ("[2001:db8::25]:25", "any", False, ("2001:db8::25", 25)),
        # a service endpoint (inet:HOST:PORT): only IPv6 in brackets, IPv4 and names bare, the port required
        ("127.0.0.1:10023", "ipv6", True, ("127.0.0.1", 10023)),
        ("[::1]:10023", "ipv6", True, ("::1", 10023)),
        ("localhost:65535", "ipv6", True, ("localhost", 65535)),
    ],
)
def test_host_port_accepts(value, brackets, port_required, expected):
    assert _input.host_port(value, "f", brackets=brackets, port_required=port_required) == expected


@pytest.mark.parametrize(
    ("value", "brackets", "port_required", "words"),
    [
        ("192.0.2.25", "any", False, "IP address"),  # a next hop's address goes in brackets (no MX lookup)
        ("[300.1.1.1]:25", "any", False, "not an IP address"),
        ("[smtp.example.net]:99999", "any", False, "port 1-65535"),
        ("[smtp.example.net]:0", "any", False, "port 1-65535"),
        ("smtp example.net", "any", False, "space"),
        ("smtp.example.net:25\nmynetworks = 0.0.0.0/0", "any", False, "control"),
        ("bücher.example:25", "any", False, "xn--"),
        ("[-x.example]", "any", False, "DNS label"),
        ("[127.0.0.1]:10023", "ipv6", True, "only IPv6 addresses go in brackets"),
        ("[mail.example.test]:10023", "ipv6", True, "not an IP address"),
        ("127.0.0.1", "ipv6", True, "port 1-65535"),
        ("300.0.0.1:10023", "ipv6", True, "IP address"),
        ("::1:10023", "ipv6", True, "port 1-65535"),  # a bare IPv6 address: its colons end the host
        ("-x.example:10023", "ipv6", True, "DNS label"),
    ],
)
def test_host_port_refuses_naming_the_field(value, brackets, port_required, words):
    with pytest.raises(_input.InputError) as err:
        _input.host_port(value, "postfix_x", brackets=brackets, port_required=port_required)
    assert "postfix_x" in str(err.value) and words in str(err.value)


def test_host_port_bracket_rule_is_one_of_two():
    with pytest.raises(ValueError):
        _input.host_port("a.example", "f", brackets="none")
