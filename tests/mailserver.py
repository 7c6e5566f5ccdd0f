"""A real SMTP server for the mail tests (aiosmtpd on a free local port), and ways to
point the app at it, or at a port where nothing listens."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.raw: list[bytes] = []  # each message as it arrived

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Parsed back with the standard library's modern policy, as a mail client would.
        self.raw.append(envelope.content)
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"

    @staticmethod
    def text(message: EmailMessage) -> str:
        """The plain-text part."""
        part = message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())

    @property
    def recipients(self) -> list[str]:
        return [to for recipients, _ in self.messages for to in recipients]


class Refusing(Inbox):
    """A server that refuses every recipient, as for an address that does not exist."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        return "550 5.1.1 No such user here"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def use_port(app: Flask, port: int) -> None:
    """Send the app's email to ``port`` on this machine, plain SMTP, no sign-in."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False,
                      SMTP_SSL=False, SMTP_USERNAME=None, SMTP_TIMEOUT=5)


@contextmanager
def running(handler: Inbox, port: int | None = None, **options: Any) -> Iterator[int]:
    """Serve SMTP with ``handler`` on ``port`` (a free one if not given) until the
    block ends; yields the port."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
