"""WeCom (企业微信) callbacks: a manager acknowledges a task from the card's button.

WeCom calls this URL without a bearer token; the signature over the encrypted payload is the
authentication (see channels/wecom_crypto.py). `GET` is the URL check WeCom makes when an admin
saves the callback URL; `POST` carries events, of which the template-card button click is
handled: the clicking WeCom user is mapped to an employee by `wecom_userid` and the button's
action goes through the same workflow update as `POST /api/v1/tasks/{id}/actions`.

The card's button takes the task on ("I'm on it": the task stays open, in progress, as in the
console). Once applied, the card's buttons are replaced by a greyed-out "处理中" / "In
progress" (update_template_card), so it is not clicked again. A click that cannot apply (task
finished, not the assignee, unknown user) is logged and still answered with success: WeCom
would otherwise retry a click that will never apply.
"""

from __future__ import annotations

import asyncio
import logging
from xml.etree import ElementTree

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from wendu.api.deps import SessionFactoryDep, SettingsDep, TemporalDep
from wendu.api.tasks import apply_action
from wendu.channels.registry import ChannelError
from wendu.channels.wecom import WeComClient, parse_task_button_key
from wendu.channels.wecom_crypto import WeComCrypto, WeComCryptoError
from wendu.settings import Settings
from wendu.store.models import Employee
from wendu.workflows.io import TaskAction

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/wecom", tags=["wecom"])
MAX_BODY = 64 * 1024  # a callback is a few hundred bytes


def _crypto(settings: Settings) -> WeComCrypto:
    if not settings.wecom_callback_configured:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            detail="WeCom callbacks are not configured (WENDU_WECOM_TOKEN, "
                                   "WENDU_WECOM_AES_KEY, WENDU_WECOM_CORP_ID)")
    return WeComCrypto(settings.wecom_token, settings.wecom_aes_key, settings.wecom_corp_id)


def _forbidden(err: WeComCryptoError) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail=f"WeCom callback refused: {err}")


def _parse(xml: bytes | str) -> dict[str, str]:
    raw = xml.encode() if isinstance(xml, str) else xml
    # No DTDs: entity expansion is how XML bodies are made to explode.
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="XML with a DTD is refused")
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"bad XML: {err}") from None
    return {child.tag: (child.text or "").strip() for child in root}


@router.get("/callback", response_class=PlainTextResponse)
def verify_url(
    settings: SettingsDep, msg_signature: str, timestamp: str, nonce: str, echostr: str
) -> str:
    """WeCom's URL check: answer the decrypted `echostr` when the signature is ours."""
    try:
        return _crypto(settings).open(msg_signature, timestamp, nonce, echostr)
    except WeComCryptoError as err:
        raise _forbidden(err) from None


@router.post("/callback", response_class=PlainTextResponse)
async def receive(
    request: Request,
    settings: SettingsDep,
    factory: SessionFactoryDep,
    temporal: TemporalDep,
    msg_signature: str,
    timestamp: str,
    nonce: str,
) -> str:
    """An encrypted event from WeCom; template-card button clicks act on tasks."""
    crypto = _crypto(settings)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="callback too large")
    encrypt = _parse(body).get("Encrypt", "")
    try:
        event = _parse(crypto.open(msg_signature, timestamp, nonce, encrypt))
    except WeComCryptoError as err:
        raise _forbidden(err) from None
    if event.get("MsgType") == "event" and event.get("Event") == "template_card_event":
        locale = await _button_click(factory, temporal, event)
        if locale is not None:
            await _grey_out(settings, event, locale)
    return "success"


async def _button_click(factory, temporal, event: dict[str, str]) -> str | None:
    """Applies the click; the clicker's locale when it applied, else None."""
    parsed = parse_task_button_key(event.get("EventKey", ""))
    userid = event.get("FromUserName", "")
    if parsed is None:
        log.info("WeCom card click with a key not ours: %r", event.get("EventKey"))
        return None
    task_id, action = parsed
    found = await asyncio.to_thread(_employee_for, factory, userid)
    if found is None:
        log.warning("WeCom user %r clicked task %s but is no known employee", userid, task_id)
        return None
    employee_id, locale = found
    try:
        action_model = TaskAction(action=action, actor_id=employee_id)  # type: ignore[arg-type]
    except ValueError:
        log.warning("WeCom card click with unknown action %r on task %s", action, task_id)
        return None
    try:
        await apply_action(factory, temporal, task_id, action_model)
    except HTTPException as exc:
        log.info("WeCom click by %s on task %s not applied: %s", employee_id, task_id, exc.detail)
        return None
    return locale


async def _grey_out(settings: Settings, event: dict[str, str], locale: str) -> None:
    if not settings.wecom_configured or not event.get("ResponseCode"):
        return
    label = "In progress" if locale.lower().startswith("en") else "处理中"
    # A client per click: clicks are rare, and the API process then holds no WeCom connection.
    client = WeComClient(settings.wecom_corp_id, settings.wecom_secret,
                         int(settings.wecom_agent_id or 0), settings.wecom_base_url, attempts=1)
    try:
        await client.update_button(event["FromUserName"], event["ResponseCode"], label)
    except ChannelError as err:  # the action stands; only the card keeps its button
        log.warning("WeCom card not updated after the click: %s", err.reason)
    finally:
        await client.aclose()


def _employee_for(factory, userid: str) -> tuple[str, str] | None:
    if not userid:
        return None
    with factory() as session:
        row = session.execute(
            select(Employee.id, Employee.locale).where(Employee.wecom_userid == userid)
        ).first()
        return (row.id, row.locale or "zh-CN") if row is not None else None
