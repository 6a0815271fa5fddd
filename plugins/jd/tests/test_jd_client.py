"""Signing, envelopes and error classification of the JD client, without a network."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from omniplug_jd.client import (
    add_month,
    make_classify,
    make_prepare,
    param_json,
    response_key,
    sign,
)

from omniplug.errors import (
    PlatformError,
    SignatureError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.fields import CHINA_TZ
from omniplug.http import RequestSpec
from omniplug.tokens import TokenSet

# Noon China time: a daily-quota ban lasts the 12 hours to midnight.
NOON = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)


def test_official_jos_signing_vector() -> None:
    """JD's worked example (platforms.md §2.2) gives D70825340F4084360B9362B60DFD7930."""
    params = {
        "360buy_param_json": '{"end_date":null,"optional_fields":null,"order_state":"WAIT_SELLER_STOCK_OUT",'
                             '"page":"1","page_size":"200","start_date":null}',
        "access_token": "yourtoken",
        "app_key": "yourappkey",
        "method": "jingdong.pop.order.search",
        "timestamp": "2021-05-07 09:20:39.683+0800",
        "v": "2.0",
    }
    assert sign(params, "yourappSecret") == "D70825340F4084360B9362B60DFD7930"
    # One changed byte of the JSON text changes the signature: the raw text is what is signed.
    spaced = {**params, "360buy_param_json": params["360buy_param_json"].replace(",", ", ", 1)}
    assert sign(spaced, "yourappSecret") != "D70825340F4084360B9362B60DFD7930"


@pytest.mark.parametrize("with_format", [False, True])
def test_prepare_signs_exactly_what_it_sends(with_format: bool) -> None:
    prepare = make_prepare("k", "s3cret", lambda: NOON, sign_format_params=with_format)
    business = param_json({"b": "中", "a": 1})
    spec = RequestSpec("POST", "/routerjson", data={"method": "m", "360buy_param_json": business})
    out = prepare(spec, TokenSet(access_token="tok"))
    form = out.data
    assert form is not None
    assert form["360buy_param_json"] == '{"a":1,"b":"中"}'
    assert form["timestamp"] == "2026-11-01 12:00:00" and form["v"] == "2.0" and form["access_token"] == "tok"
    assert ("format" in form and "sign_method" in form) is with_format
    assert form["sign"] == sign({k: v for k, v in form.items() if k != "sign"}, "s3cret")


def test_response_key_keeps_jd_spelling() -> None:
    assert response_key("jingdong.pop.order.search") == "jingdong_pop_order_search_responce"


def test_add_month_clamps_to_month_end() -> None:
    jan31 = datetime(2027, 1, 31, 10, 0, tzinfo=CHINA_TZ)
    assert add_month(jan31) == datetime(2027, 2, 28, 10, 0, tzinfo=CHINA_TZ)
    assert add_month(datetime(2026, 12, 15, tzinfo=CHINA_TZ)) == datetime(2027, 1, 15, tzinfo=CHINA_TZ)


def _answer(body: object) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(body, ensure_ascii=False).encode())


def _gateway_error(code: str, zh: str = "", en: str = "") -> httpx.Response:
    return _answer({"error_response": {"code": code, "zh_desc": zh, "en_desc": en}})


def test_classify_gateway_codes() -> None:
    classify = make_classify(lambda: NOON)
    assert isinstance(classify(_gateway_error("12", "签名无效", "Invalid signature")), SignatureError)
    assert isinstance(classify(_gateway_error("19", "", "Invalid access_token")), TokenExpiredError)
    stale = classify(_gateway_error("8", "", "Invalid timestamp"))
    assert type(stale) is PlatformError and not stale.retryable and "clock" in str(stale)
    assert classify(_answer({"jingdong_x_responce": {"code": "0", "data": []}})) is None
    assert isinstance(classify(httpx.Response(200, content=b"<html>busy</html>")), TransientError)


def test_call_limit_daily_quota_waits_until_china_midnight() -> None:
    error = make_classify(lambda: NOON)(_gateway_error("2", "调用次数超限", "App Call Limited"))
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 12 * 3600
    assert "daily call quota" in str(error)


def test_call_limit_per_second_names_its_wait() -> None:
    classify = make_classify(lambda: NOON)
    english = classify(_gateway_error("2", "", "App Call Limited: too many calls, retry after 2 seconds"))
    chinese = classify(_gateway_error("2", "调用频率超限,请3秒后重试", "App Call Limited"))
    assert isinstance(english, ThrottledError) and english.retry_after == 2
    assert isinstance(chinese, ThrottledError) and chinese.retry_after == 3


def test_api_result_failures_busy_is_retried_parameter_is_not() -> None:
    classify = make_classify(lambda: NOON)

    def search(api_result: dict[str, object]) -> httpx.Response:
        return _answer({"jingdong_pop_order_search_responce": {"code": "0", "searchorderinfo_result": {
            "orderInfoList": [], "orderTotal": 0, "apiResult": api_result}}})

    busy = classify(search({"success": False, "chineseErrCode": "系统繁忙", "englishErrCode": "system busy"}))
    bad = classify(search({"success": False, "chineseErrCode": "参数错误: page_size",
                           "englishErrCode": "param error"}))
    assert isinstance(busy, TransientError) and busy.retryable
    assert type(bad) is PlatformError and not bad.retryable
    assert classify(search({"success": True})) is None
    ads = classify(_answer({"jingdong_ads_q_responce": {"code": "0", "returnType": {"success": False, "msg": "忙"}}}))
    assert isinstance(ads, TransientError)


def test_failure_inside_a_json_text_payload() -> None:
    payload = json.dumps({"code": 500, "message": "查询失败"})
    error = make_classify(lambda: NOON)(_answer({"jd_x_responce": {"code": "0", "queryResult": payload}}))
    assert isinstance(error, PlatformError) and "查询失败" in str(error)
