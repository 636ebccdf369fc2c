"""Check the mail of the lab's load test in a local mbox: how many messages with the test's
subject arrived, how many distinct Message-IDs they carry, and the DKIM verdicts (dkimpy,
resolving through the host's resolver, i.e. the lab's ns) of an evenly spread sample.

Usage: load_check.py MBOX SUBJECT [SAMPLE]
Prints JSON: {"count": N, "unique_ids": N, "sample": [{"message_id": ..., "dkim": [{d, s, a, result}]}]}.
"""

from __future__ import annotations

import json
import mailbox
import sys

import dkim


def verdicts(raw: bytes) -> list[dict]:
    lines = raw.split(b"\n")
    if lines[0].startswith(b"From "):
        raw = b"\n".join(lines[1:])
    d = dkim.DKIM(raw.replace(b"\n", b"\r\n"))
    out = []
    for idx in range(len(mailbox.mboxMessage(raw).get_all("DKIM-Signature") or [])):
        try:
            ok = d.verify(idx=idx)
        except dkim.DKIMException:
            ok = False
        sig = d.signature_fields
        out.append(
            {
                "d": sig.get(b"d", b"").decode(),
                "s": sig.get(b"s", b"").decode(),
                "a": sig.get(b"a", b"").decode(),
                "result": "pass" if ok else "fail",
            }
        )
    return out


def main() -> None:
    mbox_path, subject = sys.argv[1:3]
    sample_size = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    box = mailbox.mbox(mbox_path, create=False)
    keys = [key for key, msg in box.items() if (msg.get("Subject") or "").strip() == subject]
    ids = {(box.get_message(key).get("Message-ID") or "").strip() for key in keys}
    step = max(1, len(keys) // max(1, sample_size))
    sample = [
        {"message_id": (box.get_message(key).get("Message-ID") or "").strip(), "dkim": verdicts(box.get_bytes(key))}
        for key in keys[::step][:sample_size]
    ]
    print(json.dumps({"count": len(keys), "unique_ids": len(ids - {""}), "sample": sample}))


if __name__ == "__main__":
    main()
