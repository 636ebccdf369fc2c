"""The Molecule scenarios' one verifier of DKIM verdicts (dkimpy), with SPF (pyspf) and DMARC for
one message. It runs on the lab's hosts (Debian's python3-dkim, python3-spf, python3-dnspython,
resolving through the host's resolver, the lab's ns) and on the controller (the opendkim
scenario, whose records are given in a file instead of DNS).

MBOX is an mbox file (/var/mail/alice) or a Maildir (a directory: its INBOX, e.g. the
~/Maildir that Dovecot's LMTP delivers to).

Usage:
  verify_auth.py MBOX MESSAGE_ID CLIENT_IP HELO [--tamper]
      Every DKIM signature of the message with this Message-ID, the SPF verdict for its envelope
      sender and CLIENT_IP, and the DMARC verdict that follows from them and the published
      policy. With --tamper the body is altered first: every signature must then fail, which
      shows the verifier can fail.
  verify_auth.py MBOX --subject SUBJECT [--sample N]
      How many messages with this Subject arrived, how many distinct Message-IDs they carry,
      and the DKIM verdicts of an evenly spread sample of N (10).
  verify_auth.py MBOX --records FILE --token TOKEN [--token TOKEN ...]
      For each TOKEN, the DKIM verdicts of the last message whose header contains it (null if
      none), against the TXT records of FILE (JSON {"<selector>._domainkey.<domain>": value}),
      not DNS.
Prints JSON. Each DKIM verdict is {"d", "s", "a", "h", "result" (pass or fail), "ok", "reason"}. For one
message, "arc" is dkimpy's ARC verdict (dkim.arc_verify): {"cv" (none, pass or fail), "reason",
"sets" (the number of ARC sets), "seals" (each set's instance, as-domain, as-selector, cv, as-valid, ams-valid)}.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
from typing import Callable, Optional

import dkim

DnsFunc = Optional[Callable[..., Optional[bytes]]]


def as_sent(raw: bytes) -> bytes:
    """The message as it went over SMTP: without mbox's "From " line, with CRLF line ends."""
    lines = raw.split(b"\n")
    if lines[0].startswith(b"From "):
        lines = lines[1:]
    return b"\r\n".join(line.rstrip(b"\r") for line in lines)


def dkim_verdicts(raw: bytes, dnsfunc: DnsFunc = None) -> list[dict]:
    """The verdict of every DKIM-Signature of a message (as_sent form), in header order."""
    verifier = dkim.DKIM(raw)
    count = sum(1 for header in verifier.headers if header[0].lower() == b"dkim-signature")
    out = []
    for idx in range(count):
        try:
            ok = bool(verifier.verify(idx=idx, dnsfunc=dnsfunc) if dnsfunc else verifier.verify(idx=idx))
            reason = ""
        except dkim.DKIMException as exc:
            ok, reason = False, str(exc)
        fields = verifier.signature_fields
        entry = {key: fields.get(key.encode(), b"").decode() for key in ("d", "s", "a", "h")}
        entry.update(result="pass" if ok else "fail", ok=ok, reason=reason)
        out.append(entry)
    return out


def arc_verdict(raw: bytes) -> dict:
    """dkimpy's verdict on the message's ARC chain (RFC 8617), keys from DNS."""

    def text(value: object) -> object:
        return value.decode() if isinstance(value, bytes) else value

    cv, results, reason = dkim.arc_verify(raw)
    keys = ("instance", "as-domain", "as-selector", "cv", "as-valid", "ams-valid")
    return {
        "cv": text(cv) if cv is not None else "none",
        "reason": str(text(reason)),
        "sets": len(results),
        "seals": [{key: text(r.get(key)) for key in keys} for r in results],
    }


def org_aligned(a: str, b: str, strict: bool) -> bool:
    """Identifier alignment (RFC 7489 3.1); the lab's domains are two labels, their own org domains."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    if strict:
        return a == b
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def dmarc_policy(domain: str) -> dict:
    """The tags of the domain's DMARC record, from DNS."""
    import dns.resolver

    answer = dns.resolver.resolve("_dmarc." + domain, "TXT")
    for rdata in answer:
        value = b"".join(rdata.strings).decode()
        if value.startswith("v=DMARC1"):
            tags = {}
            for part in value.split(";"):
                if "=" in part:
                    k, v = part.split("=", 1)
                    tags[k.strip()] = v.strip()
            return tags
    return {}


def by_message_id(box: mailbox.Mailbox, message_id: str, client_ip: str, helo: str, tamper: bool) -> dict:
    """DKIM, SPF and DMARC for one message."""
    import spf

    for key, msg in box.items():
        if msg.get("Message-ID", "").strip() == "<%s>" % message_id:
            raw = as_sent(box.get_bytes(key))
            break
    else:
        raise SystemExit("no message with Message-ID <%s> in the mailbox" % message_id)
    if tamper:
        raw = raw.rstrip(b"\r\n") + b"\r\nA line added in transit.\r\n"
    msg = mailbox.mboxMessage(raw)
    from_domain = msg["From"].rsplit("@", 1)[1].strip(" >").lower()
    envelope = (msg.get("Return-Path") or "").strip("<> ")
    signatures = dkim_verdicts(raw)
    spf_result, spf_explanation = spf.check2(i=client_ip, s=envelope, h=helo)
    policy = dmarc_policy(from_domain)
    strict_dkim = policy.get("adkim", "r") == "s"
    strict_spf = policy.get("aspf", "r") == "s"
    dkim_aligned = any(s["ok"] and org_aligned(s["d"], from_domain, strict_dkim) for s in signatures)
    spf_aligned = spf_result == "pass" and org_aligned(envelope.rsplit("@", 1)[-1], from_domain, strict_spf)
    return {
        "message_id": message_id,
        "from_domain": from_domain,
        "envelope_from": envelope,
        "dkim": signatures,
        "spf": spf_result,
        "spf_explanation": spf_explanation,
        "dmarc_policy": policy,
        "dmarc": "pass" if (dkim_aligned or spf_aligned) else "fail",
        "dmarc_aligned_by": [n for n, ok in (("dkim", dkim_aligned), ("spf", spf_aligned)) if ok],
        "arc": arc_verdict(raw),
        "tampered": tamper,
    }


def by_subject(box: mailbox.Mailbox, subject: str, sample_size: int) -> dict:
    """Count the messages with this Subject and verify an evenly spread sample."""
    keys = [key for key, msg in box.items() if (msg.get("Subject") or "").strip() == subject]
    ids = {(box.get_message(key).get("Message-ID") or "").strip() for key in keys}
    step = max(1, len(keys) // max(1, sample_size))
    sample = [
        {
            "message_id": (box.get_message(key).get("Message-ID") or "").strip(),
            "dkim": dkim_verdicts(as_sent(box.get_bytes(key))),
        }
        for key in keys[::step][:sample_size]
    ]
    return {"count": len(keys), "unique_ids": len(ids - {""}), "sample": sample}


def by_token(box: mailbox.Mailbox, records_file: str, tokens: list[str]) -> dict:
    """For each token, the DKIM verdicts of the last message whose header holds it, against given records."""
    with open(records_file, encoding="utf-8") as handle:
        records = {name.lower().rstrip(".") + ".": value for name, value in json.load(handle).items()}

    def dnsfunc(name: bytes, timeout: int = 5) -> Optional[bytes]:
        value = records.get(name.decode().lower().rstrip(".") + ".")
        return value.encode() if value is not None else None

    messages = [as_sent(box.get_bytes(key)) for key in box.iterkeys()]
    results: dict = {}
    for token in tokens:
        found = [m for m in messages if token.encode() in m.split(b"\r\n\r\n", 1)[0]]
        results[token] = dkim_verdicts(found[-1], dnsfunc) if found else None
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("mbox")
    parser.add_argument("message_id", nargs="?")
    parser.add_argument("client_ip", nargs="?")
    parser.add_argument("helo", nargs="?")
    parser.add_argument("--tamper", action="store_true")
    parser.add_argument("--subject")
    parser.add_argument("--sample", type=int, default=10)
    parser.add_argument("--records")
    parser.add_argument("--token", action="append", default=[])
    args = parser.parse_args()
    box = (
        mailbox.Maildir(args.mbox, factory=None, create=False)
        if os.path.isdir(args.mbox)
        else mailbox.mbox(args.mbox, create=False)
    )
    if args.subject is not None:
        result = by_subject(box, args.subject, args.sample)
    elif args.records is not None:
        result = by_token(box, args.records, args.token)
    elif args.helo is not None:
        result = by_message_id(box, args.message_id, args.client_ip, args.helo, args.tamper)
    else:
        parser.error("give MESSAGE_ID CLIENT_IP HELO, --subject or --records with --token")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
