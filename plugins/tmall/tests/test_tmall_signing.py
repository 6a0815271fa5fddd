"""TOP signing: the official worked vector, its companions, and the envelope helpers."""

from __future__ import annotations

import pytest
from omniplug_tmall.client import response_key, top_error, unwrap
from omniplug_tmall.signing import canonical_text, sign

from omniplug.errors import (
    AuthError,
    PlatformError,
    SignatureError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)

# The official example of the TOP signing document (open.taobao.com docId=101617).
OFFICIAL = {
    "method": "taobao.item.seller.get", "app_key": "12345678", "session": "test",
    "timestamp": "2016-01-01 12:00:00", "format": "json", "v": "2.0", "sign_method": "md5",
    "fields": "num_iid,title,nick,price,num", "num_iid": "11223344",
}


def test_official_md5_vector() -> None:
    assert canonical_text(OFFICIAL) == (
        "app_key12345678fieldsnum_iid,title,nick,price,numformatjsonmethodtaobao.item.seller.get"
        "num_iid11223344sessiontestsign_methodmd5timestamp2016-01-01 12:00:00v2.0")
    assert sign(OFFICIAL, "helloworld", "md5") == "66987CB115214E59E6EC978214934FB8"


@pytest.mark.parametrize(("method", "expected"), [
    ("hmac", "D56D7858309C31B6251083A874D48273"),
    ("hmac-sha256", "04DB15AD0774D5CFCE2C837DE43E3FCEA9011ED74F3038FB6AB5F3C4CEA119E8"),
])
def test_companion_vectors(method: str, expected: str) -> None:
    # sign_method is itself signed, so each method signs a different string.
    assert sign({**OFFICIAL, "sign_method": method}, "helloworld", method) == expected


def test_sign_skips_empty_values_and_sign_itself() -> None:
    base = sign(OFFICIAL, "helloworld")
    assert sign({**OFFICIAL, "sign": "X", "empty": ""}, "helloworld") == base
    assert sign({**OFFICIAL, "num_iid": "11223345"}, "helloworld") != base
    with pytest.raises(ValueError, match="sign_method"):
        sign(OFFICIAL, "helloworld", "sha1")


def test_envelope_key_and_double_wrapped_lists() -> None:
    assert response_key("taobao.trades.sold.get") == "trades_sold_get_response"
    assert response_key("tmall.crm.member.query") == "tmall_crm_member_query_response"
    assert unwrap({"trades": {"trade": [{"tid": 1}]}}, "trades", "trade") == [{"tid": 1}]
    assert unwrap({}, "trades", "trade") == []


@pytest.mark.parametrize(("err", "cls", "retryable"), [
    ({"code": 7, "msg": "App Call Limited", "sub_msg": "This ban will last for 3 more seconds"}, ThrottledError, True),
    ({"code": 25, "msg": "Invalid Signature"}, SignatureError, False),
    ({"code": 27, "msg": "Invalid Session"}, TokenExpiredError, False),
    ({"code": 29, "msg": "Invalid App Key"}, AuthError, False),
    ({"code": 15, "msg": "Remote service error", "sub_code": "isp.remote-service-timeout"}, TransientError, True),
    ({"code": 15, "msg": "Remote service error", "sub_code": "isv.invalid-parameter"}, PlatformError, False),
    ({"code": 41, "msg": "Invalid Arguments", "sub_code": "isv.invalid-parameter:page_size"}, PlatformError, False),
])
def test_error_classes(err: dict[str, object], cls: type[PlatformError], retryable: bool) -> None:
    error = top_error(err)
    assert type(error) is cls
    assert error.retryable is retryable
    assert error.platform == "tmall"
    if cls is ThrottledError:
        assert error.retry_after == 3  # type: ignore[attr-defined]
