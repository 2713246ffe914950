"""E-mail over SMTP: STARTTLS, AUTH, and a plain-text and an HTML part.

The Message-ID is derived from the delivery key, so a message the notifier resends after an
unknown outcome (a timeout after DATA) carries the same id as the first and mail clients and
archives fold the two into one. smtplib is blocking and well-proven; it runs in a thread.

SMTP reply codes decide what happens next: 4xx and lost connections are worth retrying later,
5xx (bad address, wrong password, policy refusal) are recorded as the delivery's failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from wendu.channels.message import ChannelError, OutgoingMessage


def message_id(key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "wendu.local"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def plain_to_html(subject: str, body: str) -> str:
    """The HTML part when the template has no e-mail variant: the text, escaped, in paragraphs."""
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in body.split("\n\n") if p
    )
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(subject)}"
            f"</title></head><body>{paragraphs}</body></html>")


class EmailChannel:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        reply_to: str = "",
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 30,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.starttls = username, password, starttls
        self.reply_to, self.timeout = reply_to, timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    @classmethod
    def from_settings(cls, settings: Any) -> EmailChannel:
        return cls(settings.smtp_host, settings.smtp_port, sender=settings.smtp_from,
                   username=settings.smtp_username, password=settings.smtp_password,
                   starttls=settings.smtp_starttls, reply_to=settings.smtp_reply_to)

    def build(self, message: OutgoingMessage) -> EmailMessage:
        if not message.recipient_email:
            raise ChannelError(f"{message.recipient_id} has no e-mail address")
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = formataddr((message.recipient_name, message.recipient_email))
        if self.reply_to:
            mail["Reply-To"] = self.reply_to
        mail["Message-ID"] = message_id(message.key, self.sender)
        mail["Date"] = formatdate(localtime=False)
        mail["Content-Language"] = message.locale
        if message.urgent:
            mail["Importance"] = "high"
        mail.set_content(message.body)
        mail.add_alternative(message.variant or plain_to_html(message.subject, message.body),
                             subtype="html")
        return mail

    async def send(self, message: OutgoingMessage) -> None:
        mail = self.build(message)
        await asyncio.to_thread(self._send, mail)

    def _send(self, mail: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.ssl_context)
                    smtp.ehlo()
                if self.username:
                    self._login(smtp)
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as err:
            raise ChannelError(f"SMTP login as {self.username!r} refused: {_reply(err)}") from err
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _ in err.recipients.values()]
            reasons = "; ".join(f"{rcpt}: {code} {msg.decode(errors='replace')}"
                                for rcpt, (code, msg) in err.recipients.items())
            raise ChannelError(f"SMTP refused the recipient: {reasons}",
                               retryable=all(400 <= c < 500 for c in codes)) from err
        except smtplib.SMTPResponseException as err:
            raise ChannelError(f"SMTP error: {_reply(err)}",
                               retryable=400 <= err.smtp_code < 500) from err
        except smtplib.SMTPNotSupportedError as err:
            raise ChannelError(f"SMTP server lacks a needed extension: {err}") from err
        except ssl.SSLCertVerificationError as err:
            raise ChannelError(f"SMTP server certificate not trusted: {err}") from err
        except (smtplib.SMTPException, OSError) as err:
            raise ChannelError(f"SMTP server {self.host}:{self.port} unreachable or dropped the "
                               f"connection: {type(err).__name__}: {err}", retryable=True) from err

    def _login(self, smtp: smtplib.SMTP) -> None:
        # Inside TLS, PLAIN is the standard mechanism; smtplib's login() would try each
        # advertised mechanism after a refusal, which only repeats it (or stalls the server).
        if "plain" in smtp.esmtp_features.get("auth", "").lower().split():
            smtp.user, smtp.password = self.username, self.password
            smtp.auth("PLAIN", smtp.auth_plain)
        else:
            smtp.login(self.username, self.password)


def _reply(err: smtplib.SMTPResponseException) -> str:
    text = err.smtp_error.decode(errors="replace") if isinstance(err.smtp_error, bytes) else str(
        err.smtp_error)
    return f"{err.smtp_code} {text}"
