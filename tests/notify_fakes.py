"""Local stand-ins for the outside world of notifications, on 127.0.0.1 only: an HTTP server
playing an SMS gateway or a group-chat robot, and a small SMTP server. Both record what they
received; the HTTP one counts deliveries by idempotency key, as a gateway that honours the
key would (a repeated key is answered again but delivers nothing new)."""

from __future__ import annotations

import base64
import json
import socketserver
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class Behaviour:
    status: int = 200
    reply: bytes = b'{"errcode": 0, "errmsg": "ok"}'
    hold_first: float = 0.0  # seconds the first request waits for its answer
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def keys(self) -> list[str]:
        return [r.headers.get("idempotency-key", "") for r in self.requests]

    @property
    def deliveries(self) -> int:
        """Messages delivered at the receiving end: one per idempotency key."""
        return len(set(self.keys))


class _HttpHandler(BaseHTTPRequestHandler):
    server: FakeHttpServer

    def do_POST(self) -> None:
        behaviour = self.server.behaviour
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with behaviour.lock:
            first = not behaviour.requests
            behaviour.requests.append(
                Received(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    json=json.loads(raw or b"null"),
                )
            )
        behaviour.arrived.set()
        if first and behaviour.hold_first:
            time.sleep(behaviour.hold_first)
        try:
            self.send_response(behaviour.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(behaviour.reply)))
            self.end_headers()
            self.wfile.write(behaviour.reply)
        except OSError:
            pass  # the client went away (killed while waiting)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        super().__init__(("127.0.0.1", 0), _HttpHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


def start_http(behaviour: Behaviour | None = None) -> FakeHttpServer:
    server = FakeHttpServer(behaviour or Behaviour())
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server


def stop(server: socketserver.BaseServer) -> None:
    server.shutdown()
    server.server_close()


# --- SMTP ---------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse_recipients: bool = False


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough ESMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    server: FakeSmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox
        sender, recipients = "", []
        self.reply("220 fake.smtp ESMTP")
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250-fake.smtp\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n")
            elif verb == "AUTH":
                _mechanism, _sep, token = command[5:].partition(" ")
                user = base64.b64decode(token).split(b"\0")
                box.logins.append(b":".join(user[1:]).decode())
                self.reply("235 2.7.0 accepted")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(" <>"), []
                self.reply("250 ok")
            elif verb == "RCPT":
                address = command.split(":", 1)[1].strip(" <>")
                if box.refuse_recipients:
                    self.reply(f"550 5.1.1 <{address}>: Recipient address rejected")
                else:
                    recipients.append(address)
                    self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                box.envelopes.append((sender, recipients))
                box.messages.append(message_from_bytes(data, policy=policy.default))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class FakeSmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        super().__init__(("127.0.0.1", 0), _SmtpHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def start_smtp(mailbox: Mailbox | None = None) -> FakeSmtpServer:
    server = FakeSmtpServer(mailbox or Mailbox())
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    return server
