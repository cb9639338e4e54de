"""SMTP server for the tests (aiosmtpd, run with Debian's /usr/bin/python3).

Stores every accepted message in --dir as NNNNNN.eml (bytes as received, dot-unstuffed) and NNNNNN.json (envelope,
and the message as Python's email parser reads it: decoded headers, text parts, defects). Answers a 4xx/5xx on
demand: a file "fail" in --dir holding "COUNT CODE STAGE" (STAGE = rcpt or data) makes the next COUNT
transactions fail with CODE at that stage; a file "failrate" holding "RATE CODE" (e.g. "0.3 451") refuses that share
of messages at DATA, at random; a recipient whose local part starts with "refuse-" (or "later-") is refused at RCPT
with 550 (or 451), a failure at a chosen place in a run; a file "slow" holding SECONDS delays every answer to DATA.
With --count-only, nothing is parsed or stored but one line per accepted message in received.txt (its recipients,
comma-separated): fast enough for tens of thousands of messages. With --pipelining, announces PIPELINING.
Prints "READY <port>" once listening; exits when stdin closes. A line "crash" on stdin ends the process at once, as a
server going down, connections cut: between two steps of its event loop, so never between storing a message and
answering it (a kill there leaves a message stored but unanswered, which any client sends again: RFC 1047).
With --parse FILE, prints the JSON description of an .eml file instead (pickup-mode tests).
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import random
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, folder, count_only=False, pipelining=False):
        self.folder = folder
        self.count_only = count_only
        self.pipelining = pipelining
        self.lock = threading.Lock()
        self.count = len([f for f in os.listdir(folder) if f.endswith(".eml")])

    def _failure(self, stage):
        path = os.path.join(self.folder, "fail")
        with self.lock:
            try:
                with open(path) as f:
                    count, code, fail_stage = f.read().split()
            except (FileNotFoundError, ValueError):
                return None
            if fail_stage != stage or int(count) <= 0:
                return None
            left = int(count) - 1
            if left > 0:
                with open(path, "w") as f:
                    f.write(f"{left} {code} {fail_stage}")
            else:
                os.remove(path)
            kind = "4.3.0 Essayez plus tard" if code.startswith("4") else "5.7.1 Refuse"
            return f"{code} {kind}"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # aiosmtpd reads commands from a buffered stream, so it serves pipelined ones correctly, but does not say so:
        # with --pipelining it announces PIPELINING (RFC 2920) and clients send their commands in groups.
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        failure = self._failure("rcpt")
        if failure:
            return failure
        local = address.split("@")[0]
        if local.startswith("refuse-"):
            return "550 5.1.1 Destinataire refuse"
        if local.startswith("later-"):
            return "451 4.3.0 Essayez plus tard"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _random_failure(self):
        try:
            with open(os.path.join(self.folder, "failrate")) as f:
                rate, code = f.read().split()
        except (FileNotFoundError, ValueError):
            return None
        if random.random() < float(rate):
            return f"{code} 4.3.0 Essayez plus tard" if code.startswith("4") else f"{code} 5.7.1 Refuse"
        return None

    async def handle_DATA(self, server, session, envelope):
        failure = self._failure("data") or self._random_failure()
        if failure:
            return failure
        try:
            with open(os.path.join(self.folder, "slow")) as f:
                await asyncio.sleep(float(f.read()))
        except (FileNotFoundError, ValueError):
            pass
        if self.count_only:
            with self.lock:
                with open(os.path.join(self.folder, "received.txt"), "a") as f:
                    f.write(",".join(envelope.rcpt_tos) + "\n")
            return "250 2.0.0 Message accepte"
        raw = envelope.original_content or envelope.content
        record = describe(raw)
        record.update({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "authenticated": bool(getattr(session, "authenticated", False)),
        })
        with self.lock:
            self.count += 1
            name = os.path.join(self.folder, f"{self.count:06d}")
        with open(name + ".eml.tmp", "wb") as f:
            f.write(raw)
        with open(name + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(name + ".eml.tmp", name + ".eml")
        os.replace(name + ".json.tmp", name + ".json")
        return "250 2.0.0 Message accepte"


def describe(raw):
    """The message as Python's email package reads it."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        parts.append({
            "content_type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "transfer_encoding": part.get("Content-Transfer-Encoding"),
            "content": part.get_content(),
        })
    return {
        "headers": [[name, str(value)] for name, value in message.items()],
        "content_type": message.get_content_type(),
        "parts": parts,
        "defects": [type(d).__name__ for p in message.walk() for d in p.defects],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir")
    parser.add_argument("--parse", help="print the JSON description of this .eml file and exit")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--count-only", action="store_true")
    parser.add_argument("--pipelining", action="store_true")
    args = parser.parse_args()
    if args.parse:
        with open(args.parse, "rb") as f:
            json.dump(describe(f.read()), sys.stdout, ensure_ascii=False)
        return

    port = args.port
    if port == 0:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]

    kwargs = {}
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = True
    if args.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
                  and auth_data.password.decode() == args.password)
            return AuthResult(success=ok, handled=False)
        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = bool(args.cert)

    controller = Controller(Handler(args.dir, args.count_only, args.pipelining), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print(f"READY {port}", flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "crash":
                controller.loop.call_soon_threadsafe(os._exit, 0)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
