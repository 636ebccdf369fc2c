"""SMTP probes the lab runs from a container outside the server's mynetworks (ns): relay attempts
on every smtpd port, forged-From mail, and authenticated submission.

One probe: the options below; prints one JSON object, the SMTP reply code and text at the step
that decided it. Many probes: --batch FILE, a JSON list of objects with the same keys as the
options (host, port, sender, rcpt, starttls, user, password, subject, message_id, helo,
header_from); prints a JSON list of results, in order, each with the probe's "id" when it has one.
helo is the name the client greets with (default probe.invalid); header_from the From: header's
address (default the envelope sender), so that a probe can fail SPF for one domain and DMARC for
another. A connection that fails
(refused, timed out) is a result with stage "connect", not a crash, so that every probe is reported.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import ssl


def attempt(
    host: str,
    port: int,
    sender: str,
    rcpt: str,
    *,
    starttls: bool,
    login: tuple[str, str] | None,
    message: str,
    helo: str = "probe.invalid",
) -> dict:
    """Run one SMTP dialogue; return where it stopped and with which reply."""
    result: dict = {"host": host, "port": port, "from": sender, "to": rcpt, "starttls": starttls, "auth": bool(login)}
    with smtplib.SMTP(host, port, local_hostname=helo, timeout=60) as smtp:
        smtp.ehlo()
        if starttls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the lab uses Debian's snakeoil certificate
            smtp.starttls(context=ctx)
            smtp.ehlo()
        if login:
            # PLAIN only: smtplib's login() would try every offered mechanism, and Dovecot delays
            # each failure (and later logins from the same address).
            smtp.user, smtp.password = login
            try:
                smtp.auth("PLAIN", smtp.auth_plain)
            except smtplib.SMTPException as exc:
                result.update(stage="auth", code=getattr(exc, "smtp_code", None), reply=str(exc))
                return result
        code, reply = smtp.mail(sender)
        if code >= 400:
            result.update(stage="mail", code=code, reply=reply.decode())
            return result
        code, reply = smtp.rcpt(rcpt)
        if code >= 400:
            result.update(stage="rcpt", code=code, reply=reply.decode())
            return result
        code, reply = smtp.data(message.encode())
        result.update(stage="data", code=code, reply=reply.decode())
    return result


def build_message(sender: str, rcpt: str, subject: str, message_id: str, headers: list | None = None) -> str:
    """The message; headers: extra "Name: value" fields (e.g. forged Authentication-Results) after Subject."""
    extra = "".join("%s\r\n" % h for h in headers or [])
    return (
        f"From: <{sender}>\r\nTo: <{rcpt}>\r\nSubject: {subject}\r\n{extra}"
        f"Message-ID: <{message_id}>\r\n\r\nmailauth lab probe\r\n"
    )


def run(probe: dict) -> dict:
    """Run one probe given as a dict of the command line's options; never raises."""
    login = (probe["user"], probe["password"]) if probe.get("user") else None
    message = build_message(
        probe.get("header_from") or probe["sender"],
        probe["rcpt"],
        probe.get("subject", "mailauth lab probe"),
        probe.get("message_id", "probe@example.invalid"),
        probe.get("headers"),
    )
    try:
        out = attempt(
            probe["host"],
            int(probe.get("port", 25)),
            probe["sender"],
            probe["rcpt"],
            starttls=bool(probe.get("starttls")),
            login=login,
            message=message,
            helo=probe.get("helo") or "probe.invalid",
        )
    except smtplib.SMTPException as exc:
        out = {"stage": "session", "code": getattr(exc, "smtp_code", None), "reply": str(exc)}
    except OSError as exc:
        out = {"stage": "connect", "code": None, "reply": "%s: %s" % (type(exc).__name__, exc)}
    if "id" in probe:
        out["id"] = probe["id"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", help="JSON file: a list of probes")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--sender")
    parser.add_argument("--rcpt")
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--subject", default="mailauth lab probe")
    parser.add_argument("--message-id", default="probe@example.invalid")
    parser.add_argument("--helo")
    parser.add_argument("--header-from")
    parser.add_argument("--header", dest="headers", action="append", help="an extra header field, Name: value")
    args = parser.parse_args()
    if args.batch:
        with open(args.batch, encoding="utf-8") as fh:
            probes = json.load(fh)
        print(json.dumps([run(p) for p in probes]))
        return
    if not (args.host and args.sender and args.rcpt):
        parser.error("--host, --sender and --rcpt are required without --batch")
    print(json.dumps(run({k: v for k, v in vars(args).items() if v is not None and k != "batch"})))


if __name__ == "__main__":
    main()
