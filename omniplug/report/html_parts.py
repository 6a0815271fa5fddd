"""Small HTML pieces shared by the report's sections: labels, cells, tables, notes.

Everything that takes text escapes it; functions ending in ``_html`` take
markup that was built (and escaped) by this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omniplug.report.charts import esc

__all__ = ["CHANNEL_NAMES", "PLATFORM_NAMES", "STAGE_NAMES", "channel_name", "kpi", "note", "platform_name",
           "table_html", "td", "td_html", "th"]

#: Display names of the built-in platforms (others show as their plugin name).
PLATFORM_NAMES = {"tmall": "Tmall 天猫", "jd": "JD 京东", "douyin": "Douyin 抖音",
                  "xiaohongshu": "Xiaohongshu 小红书", "weibo": "Weibo 微博"}
#: Display names of the canonical channels.
CHANNEL_NAMES = {"paid": "paid 付费", "kol": "KOL 达人", "organic": "organic 自然", "live": "live 直播",
                 "search": "search 搜索", "crm": "CRM 私域"}
#: AIPL stage labels.
STAGE_NAMES = (("A", "Aware 认知"), ("I", "Interest 兴趣"), ("P", "Purchase 购买"), ("L", "Loyalty 忠诚"))


def platform_name(platform: Any) -> str:
    """``Tmall 天猫`` for ``tmall``; unknown platforms as they are (``(none)`` for null)."""
    return "(none)" if platform is None else PLATFORM_NAMES.get(str(platform), str(platform))


def channel_name(channel: Any) -> str:
    """``KOL 达人`` for ``kol``; unknown channels as they are (``(none)`` for null)."""
    return "(none)" if channel is None else CHANNEL_NAMES.get(str(channel), str(channel))


def td(text: Any, *, sort: float | None = None, cls: str = "", title: str | None = None) -> str:
    """A ``<td>`` with escaped text, a numeric sort key (``data-v``) and classes."""
    return td_html(esc(text), sort=sort, cls=cls, title=title)


def td_html(markup: str, *, sort: float | None = None, cls: str = "", title: str | None = None,
            style: str = "") -> str:
    """A ``<td>`` around markup already escaped by this package."""
    attrs = ""
    if cls:
        attrs += f' class="{esc(cls)}"'
    if sort is not None:
        attrs += f' data-v="{sort!r}"'
    if title:
        attrs += f' title="{esc(title)}"'
    if style:
        attrs += f' style="{esc(style)}"'
    return f"<td{attrs}>{markup}</td>"


def th(text: Any, *, num: bool = False, title: str | None = None) -> str:
    """A header cell (right-aligned for numbers)."""
    cls = ' class="n"' if num else ""
    tip = f' title="{esc(title)}"' if title else ""
    return f"<th{cls}{tip}>{esc(text)}</th>"


def table_html(headers: Sequence[str], rows: Sequence[Sequence[str]], *, sortable: bool = False,
               cls: str = "", attrs: str = "") -> str:
    """A table from header cells (:func:`th`) and rows of cells (:func:`td`), scrolling when wide."""
    classes = " ".join(c for c in ("sortable" if sortable else "", cls) if c)
    c = f' class="{classes}"' if classes else ""
    body = "".join(f"<tr>{''.join(r)}</tr>" for r in rows)
    return (f'<div class="scroll"><table{c}{attrs}><thead><tr>{"".join(headers)}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def note(text: str | None) -> str:
    """A highlighted note (empty when ``text`` is empty)."""
    return f'<p class="note">{esc(text)}</p>' if text else ""


def kpi(value: str, label: str, *, title: str | None = None) -> str:
    """A headline figure tile."""
    tip = f' title="{esc(title)}"' if title else ""
    return f'<div class="kpi"{tip}><div class="v">{esc(value)}</div><div class="k">{esc(label)}</div></div>'
