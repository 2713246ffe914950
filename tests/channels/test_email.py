"""E-mail through a real local SMTP server (aiosmtpd) that requires STARTTLS and AUTH."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wendu.channels.email import EmailChannel
from wendu.channels.registry import ChannelError, OutgoingMessage

USER, PASSWORD = "wendu", "s3cret-pw"


def self_signed(tmp: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp / "cert.pem").write_bytes(pem)
    (tmp / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return tmp / "cert.pem", tmp / "key.pem", pem


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd hook)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def check_password(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def smtp(tmp_path_factory):
    cert, key, pem = self_signed(tmp_path_factory.mktemp("tls"))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_tls,
        require_starttls=True, authenticator=check_password, auth_require_tls=True,
    )
    controller.start()
    yield controller, inbox, ssl.create_default_context(cadata=pem.decode())
    controller.stop()


def channel(smtp, password: str = PASSWORD) -> EmailChannel:
    controller, _, client_tls = smtp
    return EmailChannel(controller.hostname, controller.port, sender="Wendu HR <hr@example.com>",
                        username=USER, password=password, reply_to="hrbp@example.com",
                        ssl_context=client_tls)


def message(**changes) -> OutgoingMessage:
    base = dict(notification_id=7, key="rule/overtime-care/E1004/steps[0]/E1002/email",
                recipient_id="E1002", recipient_name="李娜", recipient_email="lina@example.com",
                locale="zh-CN", subject="张伟 近 7 天加班 24 小时",
                body="李娜，您好：\n\n建议关注其工作负荷 <如有需要>。",
                variant="<p>建议关注其<b>工作负荷</b></p>")
    return OutgoingMessage(**{**base, **changes})


async def test_message_has_text_and_html_parts_and_a_stable_message_id(smtp):
    _, inbox, _ = smtp
    before = len(inbox.received)
    await channel(smtp).send(message())
    await channel(smtp).send(message(variant=""))  # no e-mail variant: the text as HTML
    (sender, rcpts, raw), (_, _, raw_plain) = inbox.received[before:]
    assert sender == "hr@example.com" and rcpts == ["lina@example.com"]
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == "张伟 近 7 天加班 24 小时"
    assert mail["Reply-To"] == "hrbp@example.com"
    assert mail.get_content_type() == "multipart/alternative"
    assert mail.get_body(("plain",)).get_content().strip().endswith("工作负荷 <如有需要>。")
    assert mail.get_body(("html",)).get_content().strip() == "<p>建议关注其<b>工作负荷</b></p>"
    fallback = message_from_bytes(raw_plain, policy=policy.default).get_body(("html",))
    assert "&lt;如有需要&gt;" in fallback.get_content()
    # A resend after an unknown outcome carries the same id; another delivery does not.
    again = message_from_bytes(raw_plain, policy=policy.default)
    assert mail["Message-ID"] == again["Message-ID"]
    assert mail["Message-ID"].endswith("@example.com>")
    other = channel(smtp).build(message(key="rule/x/E1/steps[0]/E1002/email"))
    assert other["Message-ID"] != mail["Message-ID"]


async def test_wrong_password_is_a_recorded_permanent_failure(smtp):
    _, inbox, _ = smtp
    before = len(inbox.received)
    with pytest.raises(ChannelError) as raised:
        await channel(smtp, password="wrong").send(message())
    assert not raised.value.retryable
    assert "login as 'wendu' refused" in raised.value.reason and "535" in raised.value.reason
    assert len(inbox.received) == before


async def test_untrusted_certificate_and_missing_address_are_refused(smtp):
    controller, inbox, _ = smtp
    strict = EmailChannel(controller.hostname, controller.port, sender="hr@example.com",
                          username=USER, password=PASSWORD)  # system CAs: ours is unknown
    with pytest.raises(ChannelError, match="certificate not trusted"):
        await strict.send(message())
    with pytest.raises(ChannelError, match="E1002 has no e-mail address"):
        await channel(smtp).send(message(recipient_email=None))


async def test_unreachable_server_is_retryable():
    closed = EmailChannel("127.0.0.1", free_port(), sender="hr@example.com", timeout=5)
    with pytest.raises(ChannelError) as raised:
        await closed.send(message())
    assert raised.value.retryable and "unreachable" in raised.value.reason
