"""The production WeCom client against the local WeCom server, over HTTP."""

from __future__ import annotations

import pytest

from wendu.channels.registry import ChannelError, OutgoingMessage
from wendu.channels.wecom import (
    WeComChannel,
    WeComClient,
    markdown_message,
    parse_task_button_key,
    task_card_message,
    text_message,
    textcard_message,
)
from wendu.channels.wecom_crypto import WeComCrypto, WeComCryptoError


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
async def client(wecom_server, fake_wecom, delays):
    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    c = WeComClient(fake_wecom.CORP_ID, fake_wecom.SECRET, fake_wecom.AGENT_ID,
                    wecom_server.url, sleep=sleep, backoff=0.5, attempts=4)
    yield c
    await c.aclose()


def message(**changes) -> OutgoingMessage:
    base = dict(notification_id=1, key="rule/overtime-care/E1004/steps[0]/E1002/wecom",
                recipient_id="E1002", recipient_name="李娜", recipient_email=None,
                locale="zh-CN", subject="张伟 近 7 天加班 24 小时", body="建议关注其工作负荷。",
                wecom_userid="lina")
    return OutgoingMessage(**{**base, **changes})


async def test_token_is_cached_and_fetched_again_when_wecom_says_it_expired(
    client, wecom_server
):
    await client.send_message(text_message("lina", "一"))
    await client.send_message(text_message("lina", "二"))
    assert wecom_server.state.token_requests == 1

    wecom_server.expire_tokens()  # 42001 on the next send
    await client.send_message(text_message("lina", "三"))
    assert wecom_server.state.token_requests == 2

    wecom_server.state.tokens.clear()  # 40014: a token WeCom no longer knows
    await client.send_message(text_message("lina", "四"))
    assert wecom_server.state.token_requests == 3
    assert [m["text"]["content"] for m in wecom_server.messages] == ["一", "二", "三", "四"]


async def test_wrong_secret_is_a_clear_permanent_error(wecom_server, fake_wecom):
    c = WeComClient(fake_wecom.CORP_ID, "not-the-secret", fake_wecom.AGENT_ID, wecom_server.url)
    with pytest.raises(ChannelError) as raised:
        await c.send_message(text_message("lina", "hi"))
    await c.aclose()
    assert "40001" in raised.value.reason and not raised.value.retryable


async def test_every_message_type_is_accepted(client, wecom_server):
    card = task_card_message("lina", card_id="wendu-abc", title="1:1 check-in with 张伟",
                             description="Due 2026-11-29", task_id="T-1", locale="en",
                             url="https://hr.example.com/tasks/T-1")
    for payload in [
        text_message("lina", "纯文本"),
        markdown_message("lina", "**张伟** 加班 <font color=\"warning\">24</font> 小时"),
        textcard_message("lina", "加班提醒", "张伟 近 7 天加班 24 小时", "https://hr.example.com"),
        card,
    ]:
        answer = await client.send_message(payload)
        assert answer["errcode"] == 0
    sent = wecom_server.messages
    assert [m["msgtype"] for m in sent] == ["text", "markdown", "textcard", "template_card"]
    assert all(m["enable_duplicate_check"] == 1 and m["duplicate_check_interval"] > 0
               for m in sent)
    button, page = sent[3]["template_card"]["button_list"]
    assert button["text"] == "I'm on it"
    assert parse_task_button_key(button["key"]) == ("T-1", "acknowledge")
    assert (page["type"], page["url"]) == (1, "https://hr.example.com/tasks/T-1")


async def test_system_busy_is_retried_with_growing_backoff_then_succeeds(
    client, wecom_server, delays
):
    wecom_server.fail_next(2, -1)
    wecom_server.fail_next(1, 45009)
    await client.send_message(text_message("lina", "终于"))
    assert delays == [0.5, 1.0, 2.0]
    assert [m["text"]["content"] for m in wecom_server.messages] == ["终于"]


async def test_persistent_rate_limit_is_left_to_the_activity_retry(client, wecom_server):
    wecom_server.fail_next(4, 45033)
    with pytest.raises(ChannelError) as raised:
        await client.send_message(text_message("lina", "稍后"))
    assert raised.value.retryable and "45033" in raised.value.reason
    assert wecom_server.messages == []


async def test_permission_error_gives_up_at_once_with_the_reason(client, wecom_server, delays):
    wecom_server.fail_next(1, 60020)
    with pytest.raises(ChannelError) as raised:
        await client.send_message(text_message("lina", "x"))
    assert not raised.value.retryable
    assert "60020" in raised.value.reason and "trusted IP" in raised.value.reason
    assert delays == []


async def test_unknown_user_is_recorded_not_retried(client, wecom_server):
    channel = WeComChannel(client)
    with pytest.raises(ChannelError) as raised:
        await channel.send(message(wecom_userid="nobody"))
    assert "81013" in raised.value.reason and not raised.value.retryable


async def test_invaliduser_in_an_ok_answer_is_a_recorded_failure(client, wecom_server):
    wecom_server.state.out_of_range.add("wangwu")
    with pytest.raises(ChannelError) as raised:
        await WeComChannel(client).send(message(wecom_userid="wangwu"))
    assert not raised.value.retryable and "invaliduser 'wangwu'" in raised.value.reason
    assert wecom_server.messages == []


async def test_resend_after_an_unknown_outcome_is_not_delivered_twice(client, wecom_server):
    channel = WeComChannel(client)
    await channel.send(message())
    await channel.send(message())  # the notifier resends a row whose outcome it never learnt
    assert len(wecom_server.state.calls) == 2
    assert len(wecom_server.messages) == 1


async def test_channel_picks_card_markdown_or_text(client, wecom_server):
    channel = WeComChannel(client)
    await channel.send(message(key="k1"))
    await channel.send(message(key="k2", variant="### 加班提醒\n> 张伟"))
    await channel.send(message(key="k3", task={"id": "T-9", "status": "open", "url": "/tasks/T-9"}))
    text, md, card = wecom_server.messages
    assert text["text"]["content"].startswith("张伟 近 7 天加班 24 小时\n\n")
    assert md["markdown"]["content"] == "### 加班提醒\n> 张伟"
    assert card["template_card"]["button_list"][0]["text"] == "我来处理"
    assert "card_action" not in card["template_card"]  # a relative link is no use in WeCom
    with pytest.raises(ChannelError, match="no wecom_userid"):
        await channel.send(message(wecom_userid=None))


async def test_group_robot(client, wecom_server):
    await client.send_robot("robot-key-1", markdown_message("", "本周 3 人加班超 20 小时"))
    with pytest.raises(ChannelError) as raised:
        await client.send_robot("wrong-key", text_message("", "x"))
    assert "93000" in raised.value.reason
    assert [m["markdown"]["content"] for m in wecom_server.state.robot_messages] == [
        "本周 3 人加班超 20 小时"]


def test_callback_crypto_round_trip_and_tampering(fake_wecom):
    c = fake_wecom.crypto()
    encrypt = c.encrypt("<xml>你好</xml>")
    assert c.decrypt(encrypt) == "<xml>你好</xml>"
    signature = c.sign("1700000000", "n1", encrypt)
    assert c.open(signature, "1700000000", "n1", encrypt) == "<xml>你好</xml>"
    with pytest.raises(WeComCryptoError, match="signature"):
        c.open(signature, "1700000001", "n1", encrypt)
    other_corp = WeComCrypto(fake_wecom.TOKEN, fake_wecom.AES_KEY, "ww-other")
    with pytest.raises(WeComCryptoError, match="another receiver"):
        other_corp.decrypt(encrypt)
    with pytest.raises(ValueError, match="43-character"):
        WeComCrypto("t", "short", "corp")


def test_decrypts_the_sample_from_the_wecom_callback_specification():
    # The URL-verification sample of WeCom's published crypto library: an independent check
    # that our AES key derivation, padding and signature match WeCom's.
    c = WeComCrypto("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
    echostr = ("P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO"
               "+FZXvnaqQ==")
    plain = c.open("5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "1409659589", "263014780", echostr)
    assert plain == "1616140317555161061"
