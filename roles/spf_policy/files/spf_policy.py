# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mailauth SPF policy service for Postfix (check_policy_service): one long-running process under systemd.

Installed by the mailauth.core.spf_policy role with one JSON configuration that the role's
filter (mailauth.core.spf_policy_config) has already validated and normalised: networks are
CIDR lists, the mode is an action table per result, codes and texts are checked. This file
reads that JSON and never parses user formats. SPF is evaluated with pyspf (``spf``), the
Authentication-Results header built with ``authres``.

Serving: the unix socket comes from systemd (socket activation, ``LISTEN_FDS``), or ``--socket
PATH`` binds one itself (tests). One thread per Postfix connection (pyspf's DNS lookups block).
Protocol (Postfix SMTPD_POLICY_README): ``name=value`` lines up to an empty line, answered with
``action=...`` and an empty line; smtpd keeps its connection for many requests and sessions.
Postfix takes one action per answer, so with both headers the role lists this service twice in
smtpd_recipient_restrictions: per message (``instance``) the first request gets the verdict and
the first header, the second request the second header, later ones (more recipients) DUNNO.
A reject or defer is repeated for every recipient. State is kept per connection (one smtpd
process handles one session at a time).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import signal
import socket
import socketserver
import sys
import syslog
import typing as t

ACCEPT, DEFER, REJECT = "accept", "defer", "reject"
SEVERITY = {ACCEPT: 0, DEFER: 1, REJECT: 2}
# The more permissive of a real and a guessed result wins (errors of a guess are ignored). none ranks
# above neutral: a guess without `all` ends in neutral for every other client, which must not turn a
# domain without a record into a neutral that reject_neutral would refuse. The guess is only tried
# for none, so in effect it turns none into pass.
PERMISSIVE = ("pass", "none", "neutral", "softfail", "fail")
RESULT_NAMES = {
    "pass": "Pass",
    "fail": "Fail",
    "softfail": "SoftFail",
    "neutral": "Neutral",
    "none": "None",
    "permerror": "PermError",
    "temperror": "TempError",
}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ALL = re.compile(r"[+\-~?]?all", re.IGNORECASE)
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]*\.?")


# -- configuration -----------------------------------------------------------------------------


def load_config(path: str) -> t.Dict[str, t.Any]:
    """The role's JSON, with its networks parsed once."""
    with open(path, encoding="utf-8") as handle:
        cfg = json.load(handle)
    for key in ("whitelist", "skip_networks"):
        cfg[key] = [ipaddress.ip_network(n) for n in cfg.get(key) or []]
    cfg["helo_whitelist"] = set(cfg.get("helo_whitelist") or [])
    cfg["sender_whitelist"] = set(cfg.get("sender_whitelist") or [])
    if cfg.get("secret_path"):
        cfg["ar_header"] = ar_header(cfg["ar_header_prefix"], cfg["secret_path"])
    return cfg


def ar_header(prefix: str, secret_path: str) -> str:
    """The name the Authentication-Results field is prepended under: the prefix and the host's secret.

    Postfix's header_checks rename it to Authentication-Results and remove every client-sent field
    with this host's authserv-id: a client cannot send a field under a name it cannot guess.
    """
    with open(secret_path, encoding="ascii") as handle:
        secret = handle.read().strip()
    if not re.fullmatch(r"[a-z0-9]{32}", secret):
        raise ValueError("%s does not hold 32 characters a-z and 0-9" % secret_path)
    return prefix + secret


def configure_dns(cfg: t.Mapping[str, t.Any]) -> None:
    """Point dnspython's default resolver (which pyspf uses) at the configured nameservers, if any."""
    if not cfg.get("nameservers"):
        return
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = list(cfg["nameservers"])
    resolver.port = int(cfg.get("dns_port") or 53)
    resolver.timeout = float(cfg.get("dns_timeout") or 20)
    resolver.lifetime = float(cfg.get("dns_timeout") or 20)
    dns.resolver.default_resolver = resolver


# -- pure decisions ----------------------------------------------------------------------------


def insert_local_rules(record: str, local: str) -> str:
    """The record with the local mechanisms before its first ``all`` (evaluation ends there), else at the end.

    Unlike pyspf's ``insert_libspf_local_policy``, ``v=spf1 -all`` becomes ``v=spf1 LOCAL -all``.
    A record with ``redirect=`` and no ``all`` gets them after its mechanisms: they are evaluated
    before the redirect, as if before the final ``all`` of the redirected record.
    """
    if not local:
        return record
    terms = record.split()
    for index, term in enumerate(terms[1:], start=1):
        if _ALL.fullmatch(term):
            return " ".join(terms[:index] + local.split() + terms[index:])
    return " ".join(terms + local.split())


def more_permissive(real: str, guessed: str) -> bool:
    """Whether the guessed result replaces the real one (it is strictly more permissive)."""
    if guessed not in PERMISSIVE or real not in PERMISSIVE:
        return False
    return PERMISSIVE.index(guessed) < PERMISSIVE.index(real)


def in_networks(address: str, networks: t.Iterable[t.Any]) -> bool:
    """Whether the client address is in one of the networks (an IPv4-mapped IPv6 address counts as IPv4)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


def sender_domain(sender: str) -> str:
    """The domain of the envelope sender, lower case ('' for the null sender)."""
    return sender.rpartition("@")[2].lower().rstrip(".") if "@" in sender else ""


def skip_reason(cfg: t.Mapping[str, t.Any], req: t.Mapping[str, str]) -> t.Optional[str]:
    """Why this request is not checked (authenticated, skip network, a whitelist), or None."""
    if req.get("sasl_username"):
        return "authenticated"
    client = req.get("client_address", "")
    if in_networks(client, cfg["skip_networks"]):
        return "skip_networks"
    if in_networks(client, cfg["whitelist"]):
        return "whitelist"
    if req.get("helo_name", "").lower().rstrip(".") in cfg["helo_whitelist"]:
        return "helo_whitelist"
    domain = sender_domain(req.get("sender", ""))
    if domain and domain in cfg["sender_whitelist"]:
        return "sender_whitelist"
    return None


def helo_checkable(helo: str) -> bool:
    """Whether a HELO name can have an SPF record (a domain name, not an address literal)."""
    return bool(_HOSTNAME.fullmatch(helo or ""))


def verdict(
    cfg: t.Mapping[str, t.Any], req: t.Mapping[str, str], evaluate: t.Callable[..., t.Dict[str, t.Any]]
) -> t.Dict[str, t.Any]:
    """The decision for one message: skip, or the SPF results and the action.

    ``evaluate(cfg, ip, sender, helo)`` runs one SPF check (``sender`` empty for the HELO
    identity) and returns ``{result, identity, domain, guess, ...}``. The null sender is judged on
    HELO with the MAIL FROM table (RFC 7208 2.4: its MAIL FROM identity is postmaster@HELO); the
    HELO identity has its own table when ``helo_check`` is on. The severer action wins.
    """
    skip = skip_reason(cfg, req)
    if skip:
        return {"skip": skip, "action": ACCEPT, "results": []}
    ip = req.get("client_address", "")
    helo = req.get("helo_name", "")
    sender = req.get("sender", "")
    results = []
    helo_res = None
    if cfg["helo_check"] or not sender:
        if helo_checkable(helo):
            helo_res = evaluate(cfg, ip, "", helo)
        else:
            helo_res = {"result": "none", "identity": "helo", "domain": helo, "guess": False, "invalid_helo": True}
    action, decided_by = ACCEPT, None
    if sender:
        mail_res = evaluate(cfg, ip, sender, helo)
        results.append(mail_res)
        action, decided_by = cfg["actions"]["mailfrom"][mail_res["result"]], mail_res
    if helo_res is not None:
        results.append(helo_res)
        tables = ([] if sender else ["mailfrom"]) + (["helo"] if cfg["helo_check"] else [])
        for table in tables:
            candidate = cfg["actions"][table][helo_res["result"]]
            if decided_by is None or SEVERITY[candidate] > SEVERITY[action]:
                action, decided_by = candidate, helo_res
    return {"skip": None, "action": action, "results": results, "decided_by": decided_by}


def clean(text: str) -> str:
    """One line: control characters (which a header or a reply must not hold) become '?'."""
    return _CONTROL.sub("?", text)


def reply(cfg: t.Mapping[str, t.Any], v: t.Mapping[str, t.Any]) -> str:
    """The SMTP reply of a reject or defer: configured code, status and text, then what failed."""
    what = cfg["reject"] if v["action"] == REJECT else cfg["defer"]
    res = v["decided_by"]
    detail = "SPF %s for %s %s" % (res["result"], res["identity"], res["domain"] or "(none)")
    return clean("%d %s %s (%s)" % (what["code"], what["status"], what["text"], detail))


def authentication_results(cfg: t.Mapping[str, t.Any], results: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    """Authentication-Results (RFC 8601), one resinfo per identity checked, with the host's authserv-id."""
    import authres

    items = []
    for res in results:
        comment = res.get("comment") or None
        if res["identity"] == "helo":
            items.append(
                authres.SPFAuthenticationResult(result=res["result"], result_comment=comment, smtp_helo=res["domain"])
            )
        else:
            items.append(
                authres.SPFAuthenticationResult(
                    result=res["result"], result_comment=comment, smtp_mailfrom=res["sender"]
                )
            )
    header = clean(str(authres.AuthenticationResultsHeader(authserv_id=cfg["authserv_id"], results=items)))
    name, _sep, value = header.partition(":")
    return "%s:%s" % (cfg.get("ar_header") or name, value)


def headers(cfg: t.Mapping[str, t.Any], v: t.Mapping[str, t.Any]) -> t.List[str]:
    """The headers to prepend for an accepted message, in the configured order."""
    out = []
    for kind in cfg["headers"]:
        if kind == "received_spf":
            res = v["decided_by"]
            out.append(clean("Received-SPF: %s" % res["received_spf"]))
        elif kind == "authentication_results":
            out.append(authentication_results(cfg, v["results"]))
    return out


def log_line(req: t.Mapping[str, str], v: t.Mapping[str, t.Any]) -> str:
    """One line per verdict: client, HELO, sender domain, result(s) and action."""
    parts = [
        "client=%s" % req.get("client_address", ""),
        "helo=%s" % (req.get("helo_name", "") or "-"),
        "sender_domain=%s" % (sender_domain(req.get("sender", "")) or "<>"),
    ]
    if v["skip"]:
        parts += ["result=unchecked", "action=skip", "reason=%s" % v["skip"]]
    else:
        decided = v["decided_by"]
        parts.append("result=%s" % decided["result"])
        parts.append("identity=%s" % decided["identity"])
        for res in v["results"]:
            if res is not decided:
                parts.append("%s_result=%s" % (res["identity"], res["result"]))
        if decided.get("guess"):
            parts.append("guess=yes")
        parts.append("action=%s" % v["action"])
    parts.append("queue=%s" % (req.get("queue_id") or "-"))
    return clean(" ".join(parts))


# -- SPF with pyspf ----------------------------------------------------------------------------


def evaluate(cfg: t.Mapping[str, t.Any], ip: str, sender: str, helo: str) -> t.Dict[str, t.Any]:
    """One SPF check with pyspf: local rules inserted, the guess tried for ``none``; header data included."""
    import spf

    local = cfg.get("local_rules") or ""

    class Query(spf.query):
        top_done = False

        def dns_spf(self, domain):
            record = spf.query.dns_spf(self, domain)
            if not self.top_done:  # the sender's own record: the first one looked up
                self.top_done = True
                if record and local:
                    return insert_local_rules(record, local)
            return record

    receiver = cfg["authserv_id"]
    timeout = int(cfg.get("dns_timeout") or 20)
    identity = "mailfrom" if sender else "helo"
    try:
        q = Query(i=ip, s=sender, h=helo, receiver=receiver, timeout=timeout, querytime=timeout)
        result, _code, _exp = q.check()
        guess = False
        if result == "none" and cfg.get("guess"):
            g = spf.query(i=ip, s=sender, h=helo, receiver=receiver, timeout=timeout, querytime=timeout)
            g.perm_error = None  # pyspf 2.0.14's best_guess reads it before check() sets it
            guessed, _gcode, _gexp = g.best_guess(cfg["guess"])
            if more_permissive(result, guessed):
                q, result, guess = g, guessed, True
        if result not in RESULT_NAMES:  # pyspf's 'ambiguous' (harsh mode only) or anything new
            result = "permerror"
        comment = q.get_header_comment(result)
        if guess:
            q.comment = "%s: best guess record %s: %s" % (receiver, cfg["guess"], comment)
            comment = "best guess record: %s" % comment
        received = q.get_header(result, receiver=receiver)
        if sender and local and not guess and q.mechanism and q.mechanism in local.split():
            comment = "local rule %s: %s" % (q.mechanism, comment)
    except Exception as err:
        result, guess = "temperror", False
        comment = "temporary error in SPF processing: %s" % err.__class__.__name__
        received = '%s (%s: %s) client-ip=%s; helo="%s"; identity=%s' % (
            RESULT_NAMES[result],
            receiver,
            comment,
            ip,
            helo.replace('"', ""),
            identity,
        )
    domain = sender_domain(sender) if sender else helo.lower().rstrip(".")
    return {
        "result": result,
        "identity": identity,
        "domain": domain,
        "sender": sender,
        "guess": guess,
        "comment": comment.replace("(", "[").replace(")", "]"),
        "received_spf": received,
    }


# -- the service -------------------------------------------------------------------------------


class Service:
    """One smtpd connection: requests in, actions out; the verdict and pending headers kept per message."""

    def __init__(self, cfg: t.Mapping[str, t.Any], evaluate_fn: t.Callable[..., t.Dict[str, t.Any]] = evaluate):
        self.cfg = cfg
        self.evaluate = evaluate_fn
        self.instance: t.Optional[str] = None
        self.answer: t.Optional[str] = None
        self.pending: t.List[str] = []
        self.logged: t.List[str] = []

    def log(self, line: str) -> None:
        self.logged.append(line)
        syslog.syslog(syslog.LOG_INFO, line)

    def handle(self, req: t.Mapping[str, str]) -> str:
        """The action for one request."""
        instance = req.get("instance") or None
        if instance is None or instance != self.instance:
            self.instance = instance
            v = verdict(self.cfg, req, self.evaluate)
            self.log(log_line(req, v))
            self.answer, self.pending = None, []
            if v["action"] in (REJECT, DEFER):
                self.answer = reply(self.cfg, v)
            elif not v["skip"]:
                self.pending = headers(self.cfg, v)
        if self.answer:
            return self.answer
        if self.pending:
            return "PREPEND " + self.pending.pop(0)
        return "DUNNO"


# A Postfix request is about 30 short attributes; anything far larger is not Postfix.
MAX_LINE = 8192
MAX_ATTRIBUTES = 200
# A connection that sends nothing this long is dropped (smtpd closes idle ones after
# smtpd_policy_service_max_idle, 300 s, and every one after smtpd_policy_service_max_ttl, 1000 s).
IDLE_TIMEOUT = 3600.0


class RequestError(Exception):
    """A request that is not Postfix's policy protocol (the connection is closed)."""


def read_request(stream: t.IO[t.Any]) -> t.Optional[t.Dict[str, str]]:
    """One request (attributes up to an empty line); None at end of input, also in the middle of a request.

    Reads bytes (a socket) or text; bytes are decoded as UTF-8 (SMTPUTF8 addresses), invalid
    sequences replaced. A line without ``=``, longer than MAX_LINE or more than MAX_ATTRIBUTES
    attributes raise RequestError.
    """
    req: t.Dict[str, str] = {}
    while True:
        raw = stream.readline(MAX_LINE + 1)
        if not raw:
            return None
        line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if not line.endswith("\n"):
            if len(raw) > MAX_LINE:
                raise RequestError("line longer than %d bytes" % MAX_LINE)
            return None  # end of input in the middle of a line
        line = line.rstrip("\r\n")
        if not line:
            return req
        name, sep, value = line.partition("=")
        if not sep or not name:
            raise RequestError("not name=value: %r" % clean(line[:80]))
        if len(req) >= MAX_ATTRIBUTES:
            raise RequestError("more than %d attributes" % MAX_ATTRIBUTES)
        req[name] = value


def serve_connection(
    rfile: t.IO[bytes],
    wfile: t.IO[bytes],
    cfg: t.Mapping[str, t.Any],
    evaluate_fn: t.Callable[..., t.Dict[str, t.Any]] = evaluate,
) -> int:
    """Answer every request of one Postfix connection until it closes; the number of requests answered."""
    service = Service(cfg, evaluate_fn)
    answered = 0
    while True:
        try:
            req = read_request(rfile)
        except RequestError as err:
            syslog.syslog(syslog.LOG_WARNING, "closing a connection: %s" % err)
            return answered
        if req is None:
            return answered
        if req.get("request") != "smtpd_access_policy":
            action = "DUNNO"
        else:
            try:
                action = service.handle(req)
            except Exception as err:
                syslog.syslog(syslog.LOG_ERR, "internal error: %r" % (err,))
                action = "DEFER_IF_PERMIT SPF policy service error"
        wfile.write(("action=%s\n\n" % action).encode("utf-8", "replace"))
        wfile.flush()
        answered += 1


class Handler(socketserver.StreamRequestHandler):
    """One Postfix connection, in its own thread."""

    timeout = IDLE_TIMEOUT

    def handle(self) -> None:
        # OSError: the peer went away, or the idle timeout.
        with contextlib.suppress(OSError):
            serve_connection(self.rfile, self.wfile, self.server.config, self.server.evaluate)  # type: ignore[attr-defined]


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """The policy service: a thread per connection, on a listening unix socket."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many smtpd processes connect at once (the systemd socket: Backlog=)

    def __init__(
        self,
        cfg: t.Mapping[str, t.Any],
        listener: t.Optional[socket.socket] = None,
        path: t.Optional[str] = None,
        evaluate_fn: t.Callable[..., t.Dict[str, t.Any]] = evaluate,
    ) -> None:
        self.config = cfg
        self.evaluate = evaluate_fn
        if listener is not None:  # already bound and listening (systemd)
            socketserver.UnixStreamServer.__init__(self, "", Handler, bind_and_activate=False)
            self.socket.close()
            self.socket = listener
            self.server_address = listener.getsockname()
        else:
            if path and os.path.exists(path):
                os.unlink(path)
            socketserver.UnixStreamServer.__init__(self, path, Handler)

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        syslog.syslog(syslog.LOG_ERR, "internal error: %r" % (sys.exc_info()[1],))


def systemd_listener() -> t.Optional[socket.socket]:
    """The listening socket systemd passed (LISTEN_FDS, fd 3), or None."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or os.environ.get("LISTEN_FDS") != "1":
        return None
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)
    return socket.socket(fileno=3)


REQUIRED = (
    "authserv_id",
    "headers",
    "helo_check",
    "whitelist",
    "skip_networks",
    "helo_whitelist",
    "sender_whitelist",
    "local_rules",
    "guess",
    "reject",
    "defer",
    "actions",
)


def check_config(path: str) -> t.List[str]:
    """Problems of a configuration file (the role's --check before it goes live); empty when usable."""
    try:
        cfg = load_config(path)
    except (OSError, ValueError, TypeError) as err:
        return ["cannot read %s: %s" % (path, err)]
    problems = ["%s lacks %s" % (path, key) for key in REQUIRED if key not in cfg]
    for identity in ("mailfrom", "helo"):
        table = (cfg.get("actions") or {}).get(identity) or {}
        problems += [
            "%s: actions.%s.%s must be accept, defer or reject" % (path, identity, r)
            for r in RESULT_NAMES
            if table.get(r) not in SEVERITY
        ]
    for module in ("spf", "authres", "dns.resolver"):
        try:
            __import__(module)
        except ImportError as err:
            problems.append("cannot import %s: %s" % (module, err))
    return problems


USAGE = "usage: spf_policy.py [--socket PATH] CONFIG.json | --check CONFIG.json"


def _stop(signum: int, _frame: t.Any) -> None:
    raise SystemExit(0)


def main(argv: t.Sequence[str]) -> int:
    """Serve Postfix on systemd's socket (or --socket PATH) until stopped (--check CONFIG: check it and exit)."""
    if len(argv) == 3 and argv[1] == "--check":
        problems = check_config(argv[2])
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    syslog.openlog("mailauth-spf", syslog.LOG_PID, syslog.LOG_MAIL)
    args = list(argv[1:])
    path = None
    if len(args) == 3 and args[0] == "--socket":
        path = args.pop(1)
        args.pop(0)
    if len(args) != 1:
        syslog.syslog(syslog.LOG_ERR, USAGE)
        print(USAGE, file=sys.stderr)
        return 2
    try:
        cfg = load_config(args[0])
        configure_dns(cfg)
    except (OSError, ValueError, KeyError) as err:
        syslog.syslog(syslog.LOG_ERR, "cannot read %s: %s" % (args[0], err))
        print("cannot read %s: %s" % (args[0], err), file=sys.stderr)
        return 1
    listener = systemd_listener()
    if listener is None and path is None:
        syslog.syslog(syslog.LOG_ERR, "no socket: run by mailauth-spf.socket, or with --socket PATH")
        print("no socket: run by mailauth-spf.socket, or with --socket PATH", file=sys.stderr)
        return 2
    server = Server(cfg, listener=listener, path=path)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    syslog.syslog(syslog.LOG_INFO, "serving on %s" % (server.server_address or path))
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
