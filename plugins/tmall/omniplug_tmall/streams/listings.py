"""Full listings: ``products`` (items on sale, with category names) and ``materials`` (Alimama creatives)."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from omniplug.http import Page
from omniplug_tmall.client import unwrap
from omniplug_tmall.streams.common import Env, Record, walk_snapshot

__all__ = [
    "CATS_METHOD",
    "ITEMS_METHOD",
    "ITEM_FIELDS",
    "ITEM_PAGE_SIZE",
    "MATERIAL_PAGE_SIZE",
    "fetch_materials",
    "fetch_products",
]

ITEMS_METHOD = "taobao.items.onsale.get"
CATS_METHOD = "taobao.itemcats.get"
ITEM_FIELDS = "num_iid,title,price,outer_id,cid,props_name,modified"
ITEM_PAGE_SIZE = 200
MATERIAL_PAGE_SIZE = 100


def fetch_products(env: Env) -> Iterator[pa.RecordBatch]:
    """Every item on sale; each page's category ids are resolved to names with ``taobao.itemcats.get``."""
    names: dict[int, str] = {}

    def page(page_no: int) -> Page[Record]:
        body = env.call(ITEMS_METHOD, fields=ITEM_FIELDS, page_no=page_no, page_size=ITEM_PAGE_SIZE)
        return Page(items=unwrap(body, "items", "item"), total=int(body.get("total_results") or 0))

    def with_categories(items: list[Record]) -> list[Record]:
        missing = sorted({int(i["cid"]) for i in items if i.get("cid") is not None} - names.keys())
        if missing:
            body = env.call(CATS_METHOD, cids=",".join(map(str, missing)), fields="cid,name,parent_cid,is_parent")
            names.update({int(c["cid"]): c["name"] for c in unwrap(body, "item_cats", "item_cat")})
        return [{**i, "cat_name": names.get(int(i["cid"])) if i.get("cid") is not None else None} for i in items]

    return walk_snapshot(env, "products", page, with_categories)


def fetch_materials(env: Env) -> Iterator[pa.RecordBatch]:
    """Every creative material of the Alimama account (image and video URLs, campaign, upload time)."""
    method = env.cfg.materials_method

    def page(page_no: int) -> Page[Record]:
        body = env.call(method, offset=(page_no - 1) * MATERIAL_PAGE_SIZE, page_size=MATERIAL_PAGE_SIZE)
        result = body.get("result") or {}
        return Page(items=unwrap(result, "material_result_top_d_t_o_list", "material_result_top_dto"),
                    total=int(result.get("total_count") or 0))

    return walk_snapshot(env, "materials", page)
