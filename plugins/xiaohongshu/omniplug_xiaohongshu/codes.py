"""Xiaohongshu's codes and labels, shared by the client, normalise, exports and the simulator.

Confidence (see the README): the Ark bad-parameter code ``-2000400``, the Ark
order status codes and the Juguang ``placement`` values come from official
docs or SDKs. Juguang/Pugongying error codes are not published in any source
we found, so the ones the client reacts to are configurable
(``throttle_codes``, ``token_expired_codes``); the defaults below are what the
simulator sends. The other Ark error codes follow the pattern of the one
confirmed code (``-2000`` + an HTTP-like status) and are an assumption.
"""

from __future__ import annotations

PLATFORM = "xiaohongshu"
ID_TYPE = "xhs_user_id"

# -- Juguang / Pugongying envelope {code, success, msg, data} ---------------------

JG_OK = 0
#: Assumed: access token invalid or expired (configurable: ``token_expired_codes``).
JG_TOKEN_INVALID = 40001
#: Assumed: app_id/secret refused by the OAuth endpoints.
JG_APP_AUTH_FAILED = 40002
#: Assumed: the advertiser / brand user is not among the token's authorised accounts.
JG_NO_PERMISSION = 40003
#: Assumed: refresh token invalid, used or expired.
JG_REFRESH_INVALID = 40004
#: Assumed: a request parameter is invalid.
JG_BAD_PARAMS = 40010
#: Assumed: throttled (configurable: ``throttle_codes``).
JG_THROTTLED = 40029

# -- Ark envelope {success, error_code, error_msg, data} --------------------------

#: Confirmed: bad request parameters (window too long, page too big, ...).
ARK_BAD_PARAMS = -2000400
#: Assumed: the signature does not match.
ARK_BAD_SIGN = -2000401
#: Assumed: the timestamp is outside the allowed skew.
ARK_BAD_TIMESTAMP = -2000402
#: Assumed: accessToken invalid or expired.
ARK_TOKEN_INVALID = -2000403
#: Assumed: unknown appId.
ARK_BAD_APP = -2000404
#: Assumed: throttled.
ARK_THROTTLED = -2000429
#: Assumed: system busy (retryable).
ARK_BUSY = -2000500

#: Ark ``orderStatus`` (order.getOrderList doc) -> canonical status. Status 1
#: (placed, not paid) is not a sale yet: such orders yield no rows.
ARK_STATUS = {2: "paid", 3: "paid", 4: "paid", 5: "paid", 6: "paid", 7: "paid", 10: "paid",
              8: "refunded", 9: "cancelled"}
ARK_UNPAID = 1
#: Ark ``orderStatus`` labels as the back-office export writes them.
ARK_STATUS_LABELS = {1: "已下单待付款", 2: "已支付处理中", 3: "清关中", 4: "待发货", 5: "部分发货",
                     6: "待收货", 7: "已完成", 8: "已关闭", 9: "已取消", 10: "换货申请中"}

#: Juguang ``placement`` (广告类型) -> canonical channel.
PLACEMENT_CHANNEL = {1: "paid", 2: "search", 4: "paid", 7: "paid"}
#: Juguang ``placement`` labels in the report export.
PLACEMENT_LABELS = {1: "信息流", 2: "搜索", 4: "全站智投", 7: "视频内流"}

#: Note type (笔记类型) -> canonical media type.
NOTE_TYPE_MEDIA = {1: "image", 2: "video"}
NOTE_TYPE_LABELS = {1: "图文", 2: "视频"}

#: Crowd data ``action`` labels -> canonical event types.
ACTION_EVENT = {"曝光": "impression", "阅读": "note_read", "点赞": "like", "收藏": "favorite",
                "评论": "comment", "搜索": "search", "点击": "click", "分享": "share", "关注": "follow",
                "视频播放": "video_view", "商品浏览": "product_view", "加购": "add_to_cart",
                "进店": "store_visit", "直播观看": "live_view"}
#: Crowd data ``source`` (traffic source) labels -> canonical channels.
SOURCE_CHANNEL = {"聚光信息流": "paid", "蒲公英合作": "kol", "聚光搜索": "search", "自然流量": "organic",
                  "直播": "live", "私域": "crm"}


def inverse(mapping: dict[int, str] | dict[str, str]) -> dict[str, object]:
    """``{value: key}`` of a one-to-one label table (for rendering and exports)."""
    return {v: k for k, v in mapping.items()}
