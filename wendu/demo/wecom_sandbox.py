"""A local WeCom (企业微信) sandbox: the endpoints Wendu calls, their error codes, their crypto.

WeCom cannot be reached from a laptop or CI, so `wendu up --demo` runs this sandbox and points
the WeCom channel at it, and the channel tests run the production client against it. With an
`outbox` file, every message it accepts is appended there as one JSON line, so a newcomer sees
what was delivered (`wendu demo outbox`) and the record survives a restart.

It is a real HTTP server (Starlette under uvicorn, on a free port, in a thread), so the
production client is exercised over the wire exactly as it talks to qyapi.weixin.qq.com:
`gettoken` (checks corp id and secret; tokens expire, or can be expired early),
`message/send` (checks the token, validates each msgtype's shape as documented, honours
`enable_duplicate_check` within `duplicate_check_interval`, reports `invaliduser`), and the
group robot's `webhook/send`. `fail_next` makes the next calls answer an error code.
`callback_post` builds a button-click callback encrypted as WeCom does.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from wendu.channels.wecom_crypto import WeComCrypto

CORP_ID = "ww0123456789abcdef"
# Credentials of the sandbox's one app; they protect nothing outside this process.
SECRET = "wendu-sandbox-app-secret"
AGENT_ID = 1000002
TOKEN = "callbackToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeCom issues


# Sandbox control (`wendu demo wecom-outage`): make the next sends fail, as during an outage.
OUTAGE_PATH = "/sandbox/outage"


def _err(code: int, msg: str) -> JSONResponse:
    return JSONResponse({"errcode": code, "errmsg": msg})


@dataclass
class WeComState:
    users: set[str] = field(default_factory=set)
    # Users who exist but are outside the app's visible range: WeCom answers ok, names them in
    # `invaliduser` and delivers nothing to them.
    out_of_range: set[str] = field(default_factory=set)
    robot_keys: set[str] = field(default_factory=lambda: {"robot-key-1"})
    token_ttl: int = 7200
    tokens: dict[str, float] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    robot_messages: list[dict[str, Any]] = field(default_factory=list)
    card_updates: list[dict[str, Any]] = field(default_factory=list)
    # Every message/send and webhook/send call as received, accepted or not.
    calls: list[dict[str, Any]] = field(default_factory=list)
    token_requests: int = 0
    failures: list[int] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def append_json_line(path: Path, record: dict[str, Any]) -> None:
    """One JSON line, written with a single append so concurrent writers do not interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n"
    with path.open("a", encoding="utf-8") as out:
        out.write(line)


def _summary(body: dict[str, Any]) -> tuple[str, str]:
    """(title, text) of a WeCom message of any type, for the outbox."""
    kind = body.get("msgtype")
    part = body.get(kind) if isinstance(kind, str) else None
    part = part if isinstance(part, dict) else {}
    if kind == "template_card":
        return (part.get("main_title") or {}).get("title", ""), part.get("sub_title_text", "")
    if kind == "textcard":
        return part.get("title", ""), part.get("description", "")
    text = str(part.get("content", ""))
    return text.split("\n", 1)[0].lstrip("# "), text


class WeComServer:
    def __init__(self, users: set[str] | None = None, outbox: Path | None = None) -> None:
        self.state = WeComState(users=set(users or ()))
        self.outbox = outbox
        self.app = Starlette(routes=[
            Route("/cgi-bin/gettoken", self.gettoken, methods=["GET"]),
            Route("/cgi-bin/message/send", self.message_send, methods=["POST"]),
            Route("/cgi-bin/webhook/send", self.webhook_send, methods=["POST"]),
            Route("/cgi-bin/message/update_template_card", self.update_card, methods=["POST"]),
            Route(OUTAGE_PATH, self.outage, methods=["POST"]),
        ])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- control -----------------------------------------------------------------------------

    def fail_next(self, count: int, errcode: int) -> None:
        with self.state.lock:
            self.state.failures.extend([errcode] * count)

    def expire_tokens(self) -> None:
        """Every issued token expires now (as after `expires_in`, or a secret reset)."""
        with self.state.lock:
            self.state.tokens = dict.fromkeys(self.state.tokens, 0.0)

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return list(self.state.messages)

    async def outage(self, request: Request) -> JSONResponse:
        """Sandbox control, not a WeCom endpoint: the next `calls` sends answer `errcode`
        (default -1, "system busy", which a client retries); `calls: 0` ends the outage."""
        try:
            body = await request.json()
            calls, errcode = int(body.get("calls", 0)), int(body.get("errcode", -1))
        except (ValueError, TypeError, AttributeError):
            return _err(40058, 'expected {"calls": N, "errcode": CODE}')
        with self.state.lock:
            self.state.failures = [errcode] * max(calls, 0)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "failing_calls": max(calls, 0)})

    # --- endpoints ---------------------------------------------------------------------------

    async def gettoken(self, request: Request) -> JSONResponse:
        q = request.query_params
        with self.state.lock:
            self.state.token_requests += 1
            if q.get("corpid") != CORP_ID:
                return _err(40013, "invalid corpid")
            if q.get("corpsecret") != SECRET:
                return _err(40001, "invalid credential")
            token = secrets.token_hex(16)
            self.state.tokens[token] = time.monotonic() + self.state.token_ttl
        return JSONResponse({"errcode": 0, "errmsg": "ok", "access_token": token,
                             "expires_in": self.state.token_ttl})

    def _check_token(self, token: str | None) -> JSONResponse | None:
        if not token:
            return _err(41001, "access_token missing")
        expires = self.state.tokens.get(token)
        if expires is None:
            return _err(40014, "invalid access_token")
        if time.monotonic() >= expires:
            return _err(42001, "access_token expired")
        return None

    async def message_send(self, request: Request) -> JSONResponse:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _err(47001, "data format error")
        with self.state.lock:
            self.state.calls.append(body)
            refused = self._check_token(request.query_params.get("access_token"))
            if refused is not None:
                return refused
            if self.state.failures:
                code = self.state.failures.pop(0)
                return _err(code, {-1: "system busy", 45009: "api freq out of limit",
                                   45033: "api concurrent out of limit"}.get(code, "refused"))
            if body.get("agentid") != AGENT_ID:
                return _err(40056, "invalid agentid")
            problem = validate_message(body)
            if problem:
                return _err(problem[0], problem[1])
            wanted = [u for u in str(body.get("touser", "")).split("|") if u]
            valid = [u for u in wanted if u in self.state.users]
            invalid = [u for u in wanted if u not in self.state.users]
            if not valid and not set(invalid) & self.state.out_of_range:
                return _err(81013, "user & party & tag all invalid")
            if body.get("enable_duplicate_check") == 1:
                fingerprint = json.dumps(
                    {k: v for k, v in body.items()
                     if k not in ("enable_duplicate_check", "duplicate_check_interval")},
                    sort_keys=True, ensure_ascii=False)
                interval = int(body.get("duplicate_check_interval") or 1800)
                now = time.monotonic()
                if now < self.state.seen.get(fingerprint, -1.0):
                    # WeCom answers ok and delivers nothing: the message is a repeat.
                    return JSONResponse({"errcode": 0, "errmsg": "ok", "invaliduser": ""})
                self.state.seen[fingerprint] = now + interval
            if valid:
                self.state.messages.append({**body, "delivered_to": valid})
                self._record("app", body, valid)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid),
                             "msgid": secrets.token_hex(8)})

    async def update_card(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        with self.state.lock:
            refused = self._check_token(request.query_params.get("access_token"))
            if refused is not None:
                return refused
            if body.get("agentid") != AGENT_ID:
                return _err(40056, "invalid agentid")
            if not body.get("response_code") or not (body.get("button") or {}).get("replace_name"):
                return _err(40058, "response_code and button.replace_name are required")
            self.state.card_updates.append(body)
        return JSONResponse({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    async def webhook_send(self, request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        with self.state.lock:
            self.state.calls.append(body)
            if request.query_params.get("key") not in self.state.robot_keys:
                return _err(93000, "invalid webhook url")
            if self.state.failures:
                return _err(self.state.failures.pop(0), "refused")
            if body.get("msgtype") not in ("text", "markdown"):
                return _err(40008, "invalid message type")
            problem = validate_message(body)
            if problem:
                return _err(problem[0], problem[1])
            self.state.robot_messages.append(body)
            self._record("robot", body, [str(request.query_params.get("key"))])
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    def _record(self, via: str, body: dict[str, Any], to: list[str]) -> None:
        if self.outbox is None:
            return
        title, text = _summary(body)
        append_json_line(self.outbox, {
            "channel": "wecom", "via": via, "received_at": datetime.now(UTC).isoformat(),
            "to": to, "msgtype": body.get("msgtype"), "subject": title, "text": text,
        })

    # --- serving -----------------------------------------------------------------------------

    def start(self, port: int = 0) -> WeComServer:
        sock = socket.socket()
        # A sandbox stopped and started again on its port (an outage in the fault tests) must
        # not wait for the old connections' TIME_WAIT to pass.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the local WeCom sandbox did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)


def _text(value: Any, limit: int) -> bool:
    return isinstance(value, str) and bool(value) and len(value.encode()) <= limit


def validate_message(body: dict[str, Any]) -> tuple[int, str] | None:
    """(errcode, errmsg) for a payload WeCom would refuse, per the message/send docs."""
    kind = body.get("msgtype")
    part = body.get(kind) if isinstance(kind, str) else None
    if not isinstance(part, dict):
        return 40008, "invalid message type"
    if kind in ("text", "markdown"):
        return None if _text(part.get("content"), 2048) else (44004, "empty or too long content")
    if kind == "textcard":
        ok = all(_text(part.get(k), 512) for k in ("title", "description", "url"))
        return None if ok else (44004, "textcard needs title, description and url")
    if kind == "template_card":
        if part.get("card_type") != "button_interaction":
            return 40058, "card_type must be button_interaction here"
        title = (part.get("main_title") or {}).get("title")
        buttons = part.get("button_list")
        if not _text(title, 128) or not _text(part.get("task_id"), 128):
            return 40058, "template_card needs main_title.title and task_id"
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
            return 40058, "button_list needs 1 to 6 buttons"
        # type 0 (the default) calls back with its key; type 1 opens its url.
        if not all(_text(b.get("text"), 40) and (
                _text(b.get("url"), 2048) if b.get("type") == 1 else _text(b.get("key"), 1024))
                for b in buttons):
            return 40058, "each button needs text, and a key (or a url for type 1)"
        return None
    return 40008, "invalid message type"


# --- callbacks, encrypted as WeCom sends them ----------------------------------------------


def crypto() -> WeComCrypto:
    return WeComCrypto(TOKEN, AES_KEY, CORP_ID)


def click_event_xml(from_user: str, event_key: str, card_task_id: str = "card-1") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{from_user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[template_card_event]]></Event>"
        f"<EventKey><![CDATA[{event_key}]]></EventKey><TaskId><![CDATA[{card_task_id}]]></TaskId>"
        "<CardType><![CDATA[button_interaction]]></CardType>"
        f"<ResponseCode><![CDATA[{secrets.token_hex(8)}]]></ResponseCode>"
        f"<AgentID>{AGENT_ID}</AgentID></xml>"
    )


def callback_post(inner_xml: str, c: WeComCrypto | None = None) -> tuple[dict[str, str], str]:
    """(query params, body) of the POST WeCom makes to the callback URL."""
    c = c or crypto()
    encrypt = c.encrypt(inner_xml)
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    body = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
            f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
    params = {"msg_signature": c.sign(timestamp, nonce, encrypt), "timestamp": timestamp,
              "nonce": nonce}
    return params, body


def url_verification(echo: str, c: WeComCrypto | None = None) -> dict[str, str]:
    """The query of WeCom's GET when an admin saves the callback URL."""
    c = c or crypto()
    encrypt = c.encrypt(echo)
    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    return {"msg_signature": c.sign(timestamp, nonce, encrypt), "timestamp": timestamp,
            "nonce": nonce, "echostr": encrypt}
