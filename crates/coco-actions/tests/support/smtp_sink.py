"""A real SMTP server for the notifier tests (crates/coco-actions/tests/notify.rs).

    smtp_sink.py --dir DIR [--port N]      (N = 0, the default, picks a free port)

Prints "PORT <n>" once the server accepts connections and runs until its standard input
closes, so it dies with the test process that started it.

Every accepted message is stored twice: DIR/<n>.eml holds the bytes received after DATA,
untouched; DIR/<n>.json (written last, so its presence means the message is complete)
holds the envelope and what Python's own MIME parser reads from those bytes — the test
checks the message as a mail client would see it, not as the sender meant it.

Recipients whose local part is "defer" get a 451 reply and "reject" a 550, so the tests
can see how the sender classifies transient and permanent refusals.
"""

import argparse
import email
import email.policy
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local == "defer":
            return "451 4.3.0 Mailbox busy, try again later (test sink)"
        if local == "reject":
            return "550 5.1.1 No such user (test sink)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, f"{self.count:04d}")
        raw = envelope.original_content
        if raw is None:
            raw = envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        write(base + ".eml", raw)
        write(base + ".json", json.dumps(describe(envelope, raw), indent=2).encode())
        return f"250 2.0.0 Ok: stored as {self.count:04d}"


def describe(envelope, raw):
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append({"content_type": part.get_content_type(), "content": part.get_content()})
    headers = {}
    for name in ("From", "To", "Subject", "Message-ID", "X-Coco-Idempotency-Key", "Date"):
        value = message.get(name)
        headers[name] = None if value is None else str(value)
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "content_type": message.get_content_type(),
        "headers": headers,
        "parts": parts,
    }


def write(path, data):
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(data)
    os.replace(temporary, path)


def free_port():
    # aiosmtpd's Controller connects to its own port to know it is up, so it needs a
    # real number rather than 0.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port or free_port()
    controller = Controller(Sink(args.dir), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        print(f"PORT {port}", flush=True)
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
