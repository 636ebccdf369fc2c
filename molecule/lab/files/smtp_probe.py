"""SMTP probes the lab runs from the controller: relay attempts and authenticated submission.

Prints one JSON object: for each probe, the SMTP reply code and text at the step that decided it.
"""

from __future__ import annotations

import argparse
import json
import smtplib
import ssl


def attempt(
    host: str, port: int, sender: str, rcpt: str, *, starttls: bool, login: tuple[str, str] | None, message: str
) -> dict:
    """Run one SMTP dialogue; return where it stopped and with which reply."""
    result: dict = {"host": host, "port": port, "from": sender, "to": rcpt, "starttls": starttls, "auth": bool(login)}
    with smtplib.SMTP(host, port, local_hostname="probe.invalid", timeout=20) as smtp:
        smtp.ehlo()
        if starttls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # the lab uses Debian's snakeoil certificate
            smtp.starttls(context=ctx)
            smtp.ehlo()
        if login:
            try:
                smtp.login(*login)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=25)
    parser.add_argument("--sender", required=True)
    parser.add_argument("--rcpt", required=True)
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--subject", default="mailauth lab probe")
    parser.add_argument("--message-id", default="probe@example.invalid")
    args = parser.parse_args()
    message = (
        f"From: <{args.sender}>\r\nTo: <{args.rcpt}>\r\nSubject: {args.subject}\r\n"
        f"Message-ID: <{args.message_id}>\r\n\r\nmailauth lab probe\r\n"
    )
    login = (args.user, args.password) if args.user else None
    try:
        out = attempt(
            args.host, args.port, args.sender, args.rcpt, starttls=args.starttls, login=login, message=message
        )
    except smtplib.SMTPException as exc:
        out = {"stage": "session", "code": getattr(exc, "smtp_code", None), "reply": str(exc)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
