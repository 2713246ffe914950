"""WeCom (企业微信): app messages through the documented server API, and group robots.

`WeComClient` speaks the API: `gettoken` (the access token cached until shortly before it
expires, and fetched afresh once when a call says it expired: 40014, 42001, 42007),
`message/send` and the group-robot `webhook/send`. Busy and rate-limited answers (-1, 45009,
45033) are retried here with exponential backoff; if they persist the error is retryable and
the delivery activity retries later. Anything else (unknown user, no permission, bad agent)
will not get better by retrying and is reported as such, with WeCom's code and message.

Every app message asks for WeCom's duplicate check, so the notifier may resend a message whose
outcome it never learnt (a timeout) without the employee seeing it twice.

`WeComChannel` turns a rendered message into the right message type: a message about an open
task becomes a button card whose first button takes the task on ("I'm on it", as in the
console; see api/wecom.py for the click) and whose second opens the task's page, where it is
completed or dismissed with the comment those need (a card button cannot carry one),
with the template's WeCom variant, if any, as the card's (plain, short) text; any other message
with a WeCom variant (`<locale>.wecom.j2`) is sent as markdown, the rest as text.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from wendu.channels.message import ChannelError, OutgoingMessage

OK = 0
SYSTEM_BUSY = -1
TOKEN_EXPIRED = {40014, 42001, 42007}
RATE_LIMITED = {45009, 45033}
# Meanings of the codes a misconfigured app meets first, for a recorded reason HR can act on.
KNOWN_ERRORS = {
    40003: "invalid userid",
    40056: "invalid agentid",
    60011: "the app has no permission for this user",
    60020: "the server's IP is not on the app's trusted IP list",
    81013: "user, department and tag are all invalid",
    301002: "the app may not message this user",
}
TEXT_LIMIT = 2048  # bytes, for text and markdown content
TITLE_LIMIT = 128
# How long WeCom suppresses a repeat of the same message (seconds; WeCom allows up to 4 hours).
DUPLICATE_CHECK_INTERVAL = 1800
TASK_ACTION_PREFIX = "task:"


def task_button_key(task_id: str, action: str) -> str:
    """The key a card button carries back in the click callback."""
    return f"{TASK_ACTION_PREFIX}{task_id}:{action}"


def parse_task_button_key(key: str) -> tuple[str, str] | None:
    """(task id, action) from a button key, or None when it is not one of ours."""
    if not key.startswith(TASK_ACTION_PREFIX):
        return None
    task_id, sep, action = key[len(TASK_ACTION_PREFIX) :].rpartition(":")
    return (task_id, action) if sep and task_id and action else None


def clip(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes, cut on a character boundary."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "..."


class WeComClient:
    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int,
        base_url: str = "https://qyapi.weixin.qq.com",
        *,
        http: httpx.AsyncClient | None = None,
        attempts: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        duplicate_check_interval: int = DUPLICATE_CHECK_INTERVAL,
    ) -> None:
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=10)
        self.attempts, self.backoff, self.sleep, self.clock = attempts, backoff, sleep, clock
        self.duplicate_check_interval = duplicate_check_interval
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def token(self, *, refresh: bool = False) -> str:
        async with self._token_lock:
            if refresh or self._token is None or self.clock() >= self._token_expires:
                data = await self._call(
                    "GET", "/cgi-bin/gettoken",
                    params={"corpid": self.corp_id, "corpsecret": self.secret},
                )
                _raise_for(data, "gettoken")
                self._token = data["access_token"]
                # Renew five minutes early so a token never expires in flight.
                ttl = float(data.get("expires_in") or 7200)
                self._token_expires = self.clock() + max(ttl - 300, ttl / 2)
            return self._token

    async def send_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """POST message/send with agentid and the duplicate check added; WeCom's answer."""
        payload = {
            **message,
            "agentid": self.agent_id,
            "enable_duplicate_check": 1,
            "duplicate_check_interval": self.duplicate_check_interval,
        }
        return await self._with_retries(self._send_with_token, payload)

    async def update_button(self, userid: str, response_code: str, label: str) -> None:
        """After a card button was handled: the card's buttons become one greyed-out `label`
        (the click callback's ResponseCode names the card), so it is not clicked again."""
        payload = {"userids": [userid], "agentid": self.agent_id,
                   "response_code": response_code, "button": {"replace_name": label}}

        async def once(body: dict[str, Any]) -> dict[str, Any]:
            return await self._authorized("/cgi-bin/message/update_template_card", body)

        await self._with_retries(once, payload)

    async def send_robot(self, key: str, message: dict[str, Any]) -> dict[str, Any]:
        """A group robot's message (text or markdown) to its group chat."""

        async def once(payload: dict[str, Any]) -> dict[str, Any]:
            return await self._call("POST", "/cgi-bin/webhook/send", params={"key": key},
                                    json=payload)

        return await self._with_retries(once, message)

    async def _send_with_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        return await self._authorized("/cgi-bin/message/send", payload)

    async def _authorized(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = await self._post(path, payload, await self.token())
        if data.get("errcode") in TOKEN_EXPIRED:
            # Revoked or expired before our reckoning (a secret reset): one fresh token.
            data = await self._post(path, payload, await self.token(refresh=True))
        return data

    async def _post(self, path: str, payload: dict[str, Any], token: str) -> dict[str, Any]:
        return await self._call("POST", path, params={"access_token": token}, json=payload)

    async def _with_retries(
        self, call: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]], payload: dict[str, Any]
    ) -> dict[str, Any]:
        for attempt in range(1, self.attempts + 1):
            data = await call(payload)
            code = data.get("errcode", OK)
            busy = code == SYSTEM_BUSY or code in RATE_LIMITED
            if busy and attempt < self.attempts:
                await self.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            _raise_for(data, "message/send")
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            # The request may or may not have reached WeCom: retry, the duplicate check holds.
            raise ChannelError(f"WeCom unreachable: {type(err).__name__}: {err}",
                               retryable=True) from err
        if response.status_code >= 500 or response.status_code == 429:
            raise ChannelError(f"WeCom answered HTTP {response.status_code}", retryable=True)
        if response.status_code != 200:
            raise ChannelError(f"WeCom answered HTTP {response.status_code} on {path}")
        try:
            data = response.json()
        except ValueError:
            raise ChannelError(f"WeCom answered non-JSON on {path}", retryable=True) from None
        if not isinstance(data, dict):
            raise ChannelError(f"WeCom answered an unexpected body on {path}", retryable=True)
        return data


def _raise_for(data: dict[str, Any], what: str) -> None:
    code = data.get("errcode", OK)
    if code == OK:
        return
    meaning = KNOWN_ERRORS.get(code, "")
    reason = f"WeCom {what} errcode {code}: {data.get('errmsg', '')}"
    if meaning:
        reason += f" ({meaning})"
    retryable = code == SYSTEM_BUSY or code in RATE_LIMITED or code in TOKEN_EXPIRED
    raise ChannelError(reason, retryable=retryable)


# --- message bodies -----------------------------------------------------------------------


def text_message(touser: str, content: str) -> dict[str, Any]:
    return {"touser": touser, "msgtype": "text", "text": {"content": clip(content, TEXT_LIMIT)}}


def markdown_message(touser: str, content: str) -> dict[str, Any]:
    return {"touser": touser, "msgtype": "markdown",
            "markdown": {"content": clip(content, TEXT_LIMIT)}}


def textcard_message(
    touser: str, title: str, description: str, url: str, button: str = ""
) -> dict[str, Any]:
    card = {"title": clip(title, TITLE_LIMIT), "description": clip(description, 512), "url": url}
    if button:
        card["btntxt"] = button
    return {"touser": touser, "msgtype": "textcard", "textcard": card}


def task_card_message(
    touser: str, *, card_id: str, title: str, description: str, task_id: str, locale: str,
    url: str = "",
) -> dict[str, Any]:
    """A button_interaction card: "I'm on it" (its key names the task and the action), and,
    with an http(s) `url`, a button to the task's page to complete or dismiss it."""
    english = locale.lower().startswith("en")
    buttons: list[dict[str, Any]] = [{
        "text": "I'm on it" if english else "我来处理",
        "style": 1,
        "key": task_button_key(task_id, "acknowledge"),
    }]
    if url.startswith(("http://", "https://")):
        buttons.append({"type": 1, "text": "Complete…" if english else "去完成", "style": 2,
                        "url": url})
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "Wendu" if english else "温度 Wendu"},
        "main_title": {"title": clip(title, 72)},
        "sub_title_text": clip(description, 512),
        "task_id": card_id,
        "button_list": buttons,
    }
    if url.startswith(("http://", "https://")):
        card["card_action"] = {"type": 1, "url": url}
    return {"touser": touser, "msgtype": "template_card", "template_card": card}


def card_id_for(key: str) -> str:
    # WeCom card ids: at most 128 of [A-Za-z0-9_-@], unique per app; one per delivery key.
    return "wendu-" + hashlib.sha256(key.encode()).hexdigest()[:40]


class WeComChannel:
    name = "wecom"

    def __init__(self, client: WeComClient) -> None:
        self.client = client

    @classmethod
    def from_settings(cls, settings: Any) -> WeComChannel:
        return cls(WeComClient(settings.wecom_corp_id, settings.wecom_secret,
                               int(settings.wecom_agent_id), settings.wecom_base_url))

    def build(self, message: OutgoingMessage) -> dict[str, Any]:
        if not message.wecom_userid:
            raise ChannelError(f"{message.recipient_id} has no wecom_userid")
        to = message.wecom_userid
        task = message.task or {}
        if task.get("id") and task.get("status", "open") == "open":
            description = message.variant or message.body
            return task_card_message(
                to, card_id=card_id_for(message.key), title=message.subject or task["id"],
                description=description, task_id=str(task["id"]), locale=message.locale,
                url=str(task.get("url") or ""),
            )
        if message.variant:
            return markdown_message(to, message.variant)
        content = f"{message.subject}\n\n{message.body}" if message.subject else message.body
        return text_message(to, content)

    async def send(self, message: OutgoingMessage) -> None:
        data = await self.client.send_message(self.build(message))
        invalid = data.get("invaliduser") or ""
        if invalid:
            # Accepted by the API yet not delivered to them: a wrong id is no transient fault.
            raise ChannelError(f"WeCom reported invaliduser {invalid!r} (wecom_userid wrong "
                               "or outside the app's visible range)")
