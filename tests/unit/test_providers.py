"""The provider registry, the files derived from it, the shared HTTP client and the batch sender."""

from __future__ import annotations

import http.server
import importlib.util
import json
import threading
from pathlib import Path

import pytest

from ansible_collections.mailauth.core.plugins.module_utils import _http, _providers
from ansible_collections.mailauth.core.plugins.module_utils._provider import (
    Change,
    ProviderError,
    RecordSet,
    RequestError,
    send_in_order,
)
from ansible_collections.mailauth.core.plugins.modules import dns_records

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_provider_docs", ROOT / "hacking" / "gen_provider_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_files_equal_the_generated_output():
    gen = _generator()
    for path, content in gen.outputs().items():
        assert path.read_text(encoding="utf-8") == content, "%s is stale: run hacking/gen_provider_docs.py" % path


def test_every_backend_is_in_the_module_spec_and_docs():
    spec = dns_records.argument_spec()
    gen = _generator()
    fragment = gen.fragment()
    assert spec["provider"]["choices"] == list(_providers.PROVIDER_NAMES)
    assert "lexicon" in _providers.PROVIDER_NAMES
    for name, cls in _providers.PROVIDERS.items():
        assert set(spec[name]["options"]) == set(cls.OPTIONS)
        for option, declared in cls.OPTIONS.items():
            assert "description" not in spec[name]["options"][option]
            assert declared["description"], (name, option)
        assert "  %s:\n" % name in fragment
        assert "dns_publish_%s" % name in gen.role_specs()
        assert "dns_publish_%s" % name in gen.readme_rows()


def test_secrets_are_no_log_and_required_dicts_follow_required_options():
    spec = _providers.argument_spec()
    assert spec["rfc2136"]["options"]["key_secret"]["no_log"] is True
    assert spec["cloudflare"]["options"]["api_token"]["no_log"] is True
    assert spec["lexicon"]["options"]["credentials"]["no_log"] is True
    assert not spec["lexicon"]["options"]["settings"].get("no_log")
    rules = {rule[1] for rule in _providers.required_if()}
    assert rules == {"rfc2136", "powerdns", "cloudflare", "zonefile", "lexicon"}


def test_unknown_provider():
    with pytest.raises(ProviderError, match="unknown DNS provider 'bind9'"):
        _providers.get_provider("bind9", {})


def _change(name: str) -> Change:
    return Change("create", None, RecordSet(name, "TXT", 300, ["v"]))


def test_send_in_order_names_what_earlier_requests_applied():
    sent = []

    def send(number, request):
        if number == 3:
            raise RequestError("the server said no")
        sent.append(request)

    requests = [[_change("a.example.test")], [_change("b.example.test"), _change("c.example.test")], [_change("d")]]
    with pytest.raises(ProviderError) as raised:
        send_in_order("example.test", requests, send, lambda r: [c.name for c in r], "x: change failed", "batch")
    error = raised.value
    assert error.applied == ["a.example.test", "b.example.test", "c.example.test"]
    assert "in batch 3 of 3: the server said no" in error.msg
    assert "batches 1-2 were applied (3 changes: a.example.test, b.example.test, c.example.test)" in error.msg
    assert len(sent) == 2


@pytest.mark.parametrize(("failing", "words"), [(1, "batch 1 was applied"), (2, "batches 1-2 were applied")])
def test_send_in_order_counts_a_request_that_was_sent_as_applied(failing, words):
    """A request applied before what came after it failed (Route 53's INSYNC wait) counts as applied."""

    def send(number, request):
        if number == failing:
            raise RequestError("sent but not INSYNC after 300 seconds", sent=True)

    requests = [[_change("a.example.test")], [_change("b.example.test")], [_change("c.example.test")]]
    with pytest.raises(ProviderError) as raised:
        send_in_order("example.test", requests, send, lambda r: [c.name for c in r], "x: change failed", "batch")
    assert raised.value.applied == ["a.example.test", "b.example.test"][:failing]
    assert "in batch %d of 3: sent but not INSYNC" % failing in raised.value.msg
    assert words in raised.value.msg and "re-run to complete the work" in raised.value.msg


def test_send_in_order_first_request_fails_unsure():
    def send(number, request):
        raise RequestError("timeout", unsure=True)

    with pytest.raises(ProviderError) as raised:
        send_in_order("example.test", [[1]], send, lambda r: [], "x: change failed")
    assert raised.value.applied == []
    assert raised.value.msg == "x: change failed: timeout; it may or may not have been applied, re-run"


class _Handler(http.server.BaseHTTPRequestHandler):
    answers: list = []
    seen: list = []

    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append((self.command, self.path, self.rfile.read(length) if length else b""))
        status, headers, body = self.answers.pop(0)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.answers, _Handler.seen = [], []
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def _client(url, calls, sleeps, retries=3):
    return _http.JsonClient(url, {"X-Key": "k"}, calls.append, retries=retries, sleep=sleeps.append)


def test_client_retries_429_with_retry_after_and_5xx_with_backoff(server):
    _Handler.answers = [
        (429, {"Retry-After": "2"}, b""),
        (503, {}, b""),
        (200, {"Content-Type": "application/json"}, b'{"ok": true}'),
    ]
    calls, sleeps = [], []
    assert _client(server, calls, sleeps).request("GET", "/x", query={"a": "b c"}) == {"ok": True}
    assert sleeps == [2.0, 1.0]
    assert calls == ["read", "read", "read"]
    assert [s[1] for s in _Handler.seen] == ["/x?a=b+c"] * 3


def test_client_gives_up_after_the_retries(server):
    _Handler.answers = [(500, {}, b'{"error": "boom"}')] * 3
    calls, sleeps = [], []
    with pytest.raises(_http.HttpError) as raised:
        _client(server, calls, sleeps, retries=2).request("GET", "/x")
    assert raised.value.status == 500 and raised.value.json() == {"error": "boom"}
    assert len(calls) == 3 and sleeps == [0.5, 1.0]


def test_client_does_not_resend_a_write_after_5xx_unless_told(server):
    _Handler.answers = [(502, {}, b""), (200, {}, b"{}")]
    calls, sleeps = [], []
    client = _client(server, calls, sleeps)
    with pytest.raises(_http.HttpError):
        client.request("POST", "/w", body={"a": 1}, kind="write")
    assert calls == ["write"] and json.loads(_Handler.seen[0][2]) == {"a": 1}
    assert client.request("POST", "/w", body={"a": 1}, kind="write") == {}


def test_client_unreachable(server):
    calls, sleeps = [], []
    client = _client("http://127.0.0.1:9", calls, sleeps, retries=1)
    with pytest.raises(_http.HttpError) as raised:
        client.request("GET", "/")
    assert raised.value.status is None and calls == ["read", "read"]


def test_backoff_is_capped():
    assert _http.backoff(0) == 0.5 and _http.backoff(10) == _http.BACKOFF_MAX
    assert _http.backoff(0, "120") == _http.BACKOFF_MAX and _http.backoff(3, "soon") == 4.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"provider_name": "Hetzner!"}, "lexicon.provider_name"),
        ({"provider_name": "no_such_provider"}, "lexicon has no provider 'no_such_provider'"),
        ({"provider_name": "hetzner", "credentials": {"auth_token": "a\nb"}}, "lexicon.credentials.auth_token"),
        ({"provider_name": "hetzner", "settings": {"bad key": "x"}}, "lexicon.settings"),
        ({"provider_name": "hetzner", "settings": ["x"]}, "lexicon.settings must be a dict"),
    ],
)
def test_lexicon_options_are_validated_before_any_call(options, message):
    with pytest.raises(ProviderError) as raised:
        _providers.get_provider("lexicon", options)
    assert message in str(raised.value)


def test_lexicon_masks_credentials_in_messages():
    provider = _providers.get_provider("lexicon", {"provider_name": "hetzner", "credentials": {"auth_token": "s3cr3t"}})
    text = provider._error(RuntimeError("GET https://x.test/?token=s3cr3t failed"), "read")
    assert "s3cr3t" not in text and "********" in text


# -- adding a provider: its own file; the registry line and requirements.txt are generated -------------------------


def test_the_registry_is_generated_from_the_provider_files_found(tmp_path, monkeypatch):
    """A new module_utils file with a Provider subclass joins BACKENDS (natives by name, fallbacks last)."""
    gen = _generator()
    for path in (ROOT / "plugins" / "module_utils").glob("_*.py"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "_example.py").write_text(
        "from ansible_collections.mailauth.core.plugins.module_utils._provider import Provider\n\n\n"
        "class ExampleProvider(Provider):\n"
        '    name = "example"\n'
        '    LIBRARIES = {"example_sdk": "example-sdk>=1"}\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(gen, "MODULE_UTILS", tmp_path)
    found = [cls for _module, cls in gen.discover()]
    assert found == [
        "CloudflareProvider",
        "ExampleProvider",
        "PowerDNSProvider",
        "Rfc2136Provider",
        "Route53Provider",
        "ZonefileProvider",
        "LexiconProvider",
    ]
    block = gen.registry_block()
    assert "from ansible_collections.mailauth.core.plugins.module_utils._example import ExampleProvider\n" in block
    assert [cls.__name__ for cls in _providers.BACKENDS] == [c for c in found if c != "ExampleProvider"]


def test_requirements_come_from_the_providers_and_the_test_pins_satisfy_them():
    """Each provider names the pip requirement of every library it imports; requirements.txt lists it
    (generated), and tests/requirements.txt pins a version inside it."""
    from packaging.requirements import Requirement

    listed = (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pins = {}
    for line in (ROOT / "tests" / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith(("#", "-")):
            pin = Requirement(line)
            pins[pin.name.lower()] = next(iter(pin.specifier)).version
    for name, cls in _providers.PROVIDERS.items():
        assert {r.split(".")[0] for r in cls.REQUIREMENTS} == set(cls.LIBRARIES), name
        for spec in cls.LIBRARIES.values():
            assert spec in listed, (name, spec)
            wanted = Requirement(spec)
            assert wanted.specifier.contains(pins[wanted.name.lower()]), (name, spec, pins.get(wanted.name.lower()))


def test_a_missing_provider_library_names_its_pip_requirement(monkeypatch):
    from ansible_collections.mailauth.core.plugins.module_utils import _deps, _lexicon

    monkeypatch.setattr(_deps, "_LOADED", {})
    monkeypatch.setattr(_deps, "_ERRORS", {"lexicon.config": "ImportError: no module named lexicon"})
    with pytest.raises(_deps.MissingLibrary) as err:
        _lexicon.LexiconProvider({"provider_name": "powerdns"})
    assert err.value.library == "dns-lexicon"
