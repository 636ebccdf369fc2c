"""Independent verdicts for one delivered message, run on the receiver with Debian's python3-dkim,
python3-spf and python3-dnspython, which resolve through the host's resolver (the lab's ns).

Usage: verify_auth.py MBOX MESSAGE_ID CLIENT_IP HELO [--tamper]
With --tamper the body is altered before verification: every signature must then fail, which
shows the verifier can fail.
Prints JSON: every DKIM signature's verdict (dkimpy), the SPF verdict (pyspf) for the envelope
sender and client IP, and the DMARC verdict that follows from them and the published policy.
"""

from __future__ import annotations

import json
import mailbox
import sys

import dkim
import dns.resolver
import spf


def find(mbox_path: str, message_id: str) -> bytes:
    """The raw bytes of the message with this Message-ID, as delivered (headers included)."""
    box = mailbox.mbox(mbox_path, create=False)
    for key, msg in box.items():
        if msg.get("Message-ID", "").strip() == "<%s>" % message_id:
            return box.get_bytes(key)
    raise SystemExit("no message with Message-ID <%s> in %s" % (message_id, mbox_path))


def org_aligned(a: str, b: str, strict: bool) -> bool:
    """Identifier alignment (RFC 7489 3.1); the lab's domains are two labels, their own org domains."""
    a, b = a.lower().rstrip("."), b.lower().rstrip(".")
    if strict:
        return a == b
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def dmarc_policy(domain: str) -> dict:
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


def main() -> None:
    mbox_path, message_id, client_ip, helo = sys.argv[1:5]
    tamper = "--tamper" in sys.argv[5:]
    raw = find(mbox_path, message_id)
    # mbox adds a "From " line; dkimpy needs the message as sent.
    lines = raw.split(b"\n")
    if lines[0].startswith(b"From "):
        raw = b"\n".join(lines[1:])
    if tamper:
        raw = raw.rstrip(b"\n") + b"\nA line added in transit.\n"
    msg = mailbox.mboxMessage(raw)
    from_domain = msg["From"].rsplit("@", 1)[1].strip(" >").lower()
    envelope = (msg.get("Return-Path") or "").strip("<> ")
    signatures = []
    d = dkim.DKIM(raw.replace(b"\n", b"\r\n"))
    count = len(msg.get_all("DKIM-Signature") or [])
    for idx in range(count):
        try:
            ok, reason = d.verify(idx=idx), ""
        except dkim.DKIMException as exc:
            ok, reason = False, str(exc)
        sig = d.signature_fields
        signatures.append(
            {
                "d": sig.get(b"d", b"").decode(),
                "s": sig.get(b"s", b"").decode(),
                "a": sig.get(b"a", b"").decode(),
                "result": "pass" if ok else "fail",
                "reason": reason,
            }
        )
    spf_result, spf_explanation = spf.check2(i=client_ip, s=envelope, h=helo)
    policy = dmarc_policy(from_domain)
    strict_dkim = policy.get("adkim", "r") == "s"
    strict_spf = policy.get("aspf", "r") == "s"
    dkim_aligned = any(s["result"] == "pass" and org_aligned(s["d"], from_domain, strict_dkim) for s in signatures)
    spf_aligned = spf_result == "pass" and org_aligned(envelope.rsplit("@", 1)[-1], from_domain, strict_spf)
    print(
        json.dumps(
            {
                "message_id": message_id,
                "from_domain": from_domain,
                "envelope_from": envelope,
                "dkim": signatures,
                "spf": spf_result,
                "spf_explanation": spf_explanation,
                "dmarc_policy": policy,
                "dmarc": "pass" if (dkim_aligned or spf_aligned) else "fail",
                "dmarc_aligned_by": [n for n, ok in (("dkim", dkim_aligned), ("spf", spf_aligned)) if ok],
                "tampered": tamper,
            }
        )
    )


if __name__ == "__main__":
    main()
