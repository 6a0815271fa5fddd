"""Marketing-mix hand-off: the daily table against hand-computed and DuckDB references, the Robyn and Meridian files."""

from __future__ import annotations

import csv
import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import omniplug
import omniplug.cli.audience  # noqa: F401  (registers the commands on the CLI group)
from omniplug.cli import cli
from omniplug.errors import InvalidInputError
from omniplug.mmm import china_day, mmm_input, mmm_outcome
from omniplug.mmm_writers import write_meridian, write_robyn
from omniplug.world import WorldConfig, build_world

TS = pa.timestamp("ms", tz="UTC")
MONEY = pa.decimal128(18, 2)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def hand() -> tuple[pa.Table, pa.Table, pa.Table]:
    """Touches straddling China midnight, a refund, an order without touches, duplicate spend rows."""
    touches = pa.table({
        "event_id": ["e1", "e2", "e3"], "platform": ["douyin", "douyin", "tmall"],
        "id_type": ["phone_sha256"] * 3, "id_value": ["p1", "p1", "p2"],
        "event_time": pa.array([at("2026-10-01T15:59:59"), at("2026-10-01T16:00:00"), at("2026-10-02T02:00:00")], TS),
        "event_type": ["click", "video_view", "note_read"], "channel": ["paid", "kol", "organic"],
    })
    orders = pa.table({
        "order_id": ["o1", "o2", "o3", "o4"], "platform": ["tmall"] * 4, "id_type": ["phone_sha256"] * 4,
        "id_value": ["p1", "p2", "p2", "p3"],
        "order_time": pa.array([at("2026-10-03T00:00:00"), at("2026-10-02T03:00:00"), at("2026-10-02T04:00:00"),
                                at("2026-10-02T20:00:00")], TS),
        "amount": pa.array([Decimal("100.00"), Decimal("50.00"), Decimal("999.00"), Decimal("30.00")], MONEY),
        "currency": ["CNY"] * 4, "status": ["paid", "paid", "refunded", "paid"],
    })
    spend = pa.table({
        "date": pa.array([date(2026, 10, 1), date(2026, 10, 1), date(2026, 10, 2)], pa.date32()),
        "platform": ["douyin", "douyin", "jd"], "channel": ["paid", "paid", "paid"],
        "spend": pa.array([Decimal("10.00"), Decimal("5.50"), Decimal("7.00")], MONEY),
        "impressions": pa.array([1000, 500, 0], pa.int64()), "clicks": pa.array([10, None, 0], pa.int64()),
    })
    return touches, orders, spend


def test_china_day_is_utc_plus_8() -> None:
    times = pa.array([at("2026-10-01T15:59:59.999"), at("2026-10-01T16:00:00"), at("1969-12-31T20:00:00")], TS)
    assert china_day(times).to_pylist() == [date(2026, 10, 1), date(2026, 10, 2), date(1970, 1, 1)]


def test_daily_table_by_hand() -> None:
    touches, orders, spend = hand()
    got = mmm_input(spend, touches, orders).to_pylist()
    row = lambda d, p, c, s, i, k, t, n, r: {  # noqa: E731
        "date": d, "platform": p, "channel": c, "spend": s, "impressions": i, "clicks": k, "touches": t,
        "conversions": n, "revenue": r}
    assert got == [
        row(date(2026, 10, 1), "douyin", "paid", 15.5, 1500, 10, 1, 0.0, 0.0),
        # o1 is credited to its last touch e2, on the China day of e2 (00:00 on the 2nd).
        row(date(2026, 10, 2), "douyin", "kol", 0.0, 0, 0, 1, 1.0, 100.0),
        row(date(2026, 10, 2), "jd", "paid", 7.0, 0, 0, 0, 0.0, 0.0),
        row(date(2026, 10, 2), "tmall", "organic", 0.0, 0, 0, 1, 1.0, 50.0),
    ]
    linear = {(r["platform"], r["channel"]): r["conversions"]
              for r in mmm_input(spend, touches, orders, model="linear").to_pylist()}
    assert linear == {("douyin", "paid"): 0.5, ("douyin", "kol"): 0.5, ("jd", "paid"): 0.0, ("tmall", "organic"): 1.0}
    weekly = mmm_input(spend, touches, orders, period="week")
    assert set(weekly.column("date").to_pylist()) == {date(2026, 9, 28)}  # the Monday of that Thursday
    assert math.isclose(sum(weekly.column("spend").to_pylist()), 22.5)


def test_outcome_counts_every_paid_order_by_china_day() -> None:
    _, orders, _ = hand()
    assert mmm_outcome(orders, start=date(2026, 10, 1), end=date(2026, 10, 3)).to_pylist() == [
        {"date": date(2026, 10, 1), "conversions": 0, "revenue": 0.0},
        {"date": date(2026, 10, 2), "conversions": 1, "revenue": 50.0},
        {"date": date(2026, 10, 3), "conversions": 2, "revenue": 130.0},
    ]
    assert mmm_outcome(orders, period="week").to_pylist() == [
        {"date": date(2026, 9, 28), "conversions": 3, "revenue": 180.0}]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_robyn_files_exactly(tmp_path: Path) -> None:
    touches, orders, spend = hand()
    daily = mmm_input(spend, touches, orders)
    files = write_robyn(daily, mmm_outcome(orders), tmp_path)
    assert read_csv(files.table) == [
        ["DATE", "revenue", "conversions", "douyin_paid_S", "douyin_paid_I", "douyin_paid_C", "jd_paid_S", "jd_paid_I",
         "jd_paid_C", "douyin_kol_T", "tmall_organic_T"],
        ["2026-10-01", "0", "0", "15.5", "1500", "10", "0", "0", "0", "0", "0"],
        ["2026-10-02", "50", "1", "0", "0", "0", "7", "0", "0", "1", "1"],
        ["2026-10-03", "130", "2", "0", "0", "0", "0", "0", "0", "0", "0"],
    ]
    spec = json.loads(files.spec.read_text())
    assert spec["paid_media_spends"] == ["douyin_paid_S", "jd_paid_S"]
    # jd reports no impressions: its spend stands in as the exposure variable.
    assert spec["paid_media_vars"] == ["douyin_paid_I", "jd_paid_S"]
    assert spec["organic_vars"] == ["douyin_kol_T", "tmall_organic_T"]
    assert (spec["window_start"], spec["window_end"], spec["dep_var_type"]) == ("2026-10-01", "2026-10-03", "revenue")
    script = files.script.read_text()
    assert 'paid_media_spends = c("douyin_paid_S", "jd_paid_S")' in script
    assert 'organic_vars = c("douyin_kol_T", "tmall_organic_T")' in script and 'date_var = "DATE"' in script
    assert read_csv(files.daily)[0] == ["date", "platform", "channel", "spend", "impressions", "clicks", "touches",
                                        "conversions", "revenue"]


def test_meridian_files_exactly(tmp_path: Path) -> None:
    touches, orders, spend = hand()
    files = write_meridian(mmm_input(spend, touches, orders, period="week"), mmm_outcome(orders, period="week"),
                           tmp_path)
    assert read_csv(files.table) == [
        ["geo", "time", "population", "conversions", "revenue_per_conversion", "douyin_paid_impression",
         "jd_paid_impression", "douyin_paid_spend", "jd_paid_spend", "douyin_kol_touches", "tmall_organic_touches"],
        ["national", "2026-09-28", "1", "3", "60", "1500", "7", "15.5", "7", "1", "1"],
    ]
    spec = json.loads(files.spec.read_text())
    assert spec["media_to_channel"] == {"douyin_paid_impression": "douyin_paid", "jd_paid_impression": "jd_paid"}
    assert spec["media_is_spend"] == ["jd_paid_impression"] and spec["kpi_type"] == "non-revenue"
    script = files.script.read_text()
    compile(script, "meridian_load.py", "exec")  # valid Python
    assert "organic_media=['douyin_kol_touches', 'tmall_organic_touches']" in script
    with pytest.raises(InvalidInputError, match="dated by Mondays"):
        write_meridian(mmm_input(spend, touches, orders), mmm_outcome(orders), tmp_path, period="week")


def test_bad_input_gives_clear_errors() -> None:
    touches, orders, spend = hand()
    with pytest.raises(InvalidInputError, match="one attribution model"):
        mmm_input(spend, touches, orders, model=["last_touch", "linear"])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="drop group_by"):
        mmm_input(spend, touches, orders, group_by=["platform"])
    with pytest.raises(InvalidInputError, match="spend lacks columns"):
        mmm_input(spend.drop_columns(["spend"]), touches, orders)
    with pytest.raises(InvalidInputError, match="period must be"):
        mmm_input(spend, touches, orders, period="month")  # type: ignore[arg-type]


# -- the synthetic world against DuckDB SQL ----------------------------------------------------------


@pytest.fixture(scope="module")
def world_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    world = build_world(WorldConfig(persons=300))
    out = tmp_path_factory.mktemp("pipeline")
    for name in ("touchpoints", "orders", "spend"):
        pq.write_table(world.tables[name], out / f"{name}.parquet")
    persons = omniplug.stitch(world.tables["identity_links"]).persons
    # Identifiers no link mentions become persons of their own, explicitly: the
    # reference below and the engine then agree on who is whom by construction.
    known = set(zip(persons.column("id_type").to_pylist(), persons.column("id_value").to_pylist(), strict=True))
    alone = sorted({(r["id_type"], r["id_value"]) for name in ("touchpoints", "orders")
                    for r in world.tables[name].select(["id_type", "id_value"]).to_pylist()} - known)
    start = max(persons.column("person_id").to_pylist()) + 1
    extra = pa.table({"id_type": [a for a, _ in alone], "id_value": [b for _, b in alone],
                      "person_id": pa.array(range(start, start + len(alone)), pa.int64())})
    pq.write_table(pa.concat_tables([persons, extra.cast(persons.schema)]), out / "persons.parquet")
    return out


REFERENCE_SQL = """
WITH who AS (SELECT id_type, id_value, person_id::VARCHAR AS pid FROM read_parquet($persons)),
t AS (SELECT t.*, coalesce(w.pid, t.id_type || ':' || t.id_value) AS pid,
             CAST(timezone('Asia/Shanghai', t.event_time) AS DATE) AS day
      FROM read_parquet($touches) t LEFT JOIN who w USING (id_type, id_value)),
o AS (SELECT o.*, coalesce(w.pid, o.id_type || ':' || o.id_value) AS pid
      FROM read_parquet($orders) o LEFT JOIN who w USING (id_type, id_value) WHERE status = 'paid'),
last AS (
    SELECT t.day, t.platform, t.channel, o.amount::DOUBLE AS amount,
           row_number() OVER (PARTITION BY o.order_id, o.platform ORDER BY t.event_time DESC, t.event_id DESC) AS r
    FROM o JOIN t ON t.pid = o.pid AND t.event_time <= o.order_time
     AND t.event_time >= o.order_time - INTERVAL 30 DAY),
credit AS (SELECT day, platform, channel, count(*)::DOUBLE AS conversions, sum(amount) AS revenue
           FROM last WHERE r = 1 GROUP BY ALL),
seen AS (SELECT day, platform, channel, count(*) AS touches FROM t GROUP BY ALL),
paid AS (SELECT date AS day, platform, channel, sum(spend::DOUBLE) AS spend, sum(impressions) AS impressions,
                sum(clicks) AS clicks FROM read_parquet($spend) GROUP BY ALL)
SELECT day, platform, channel, coalesce(spend, 0) AS spend, coalesce(impressions, 0) AS impressions,
       coalesce(clicks, 0) AS clicks, coalesce(touches, 0) AS touches, coalesce(conversions, 0) AS conversions,
       coalesce(revenue, 0) AS revenue
FROM paid FULL OUTER JOIN seen USING (day, platform, channel) FULL OUTER JOIN credit USING (day, platform, channel)
"""


def test_world_daily_table_equals_duckdb(world_dir: Path) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    tables = {"persons": "persons", "touches": "touchpoints", "orders": "orders", "spend": "spend"}
    want = {(r[0], r[1], r[2]): r[3:] for r in con.execute(REFERENCE_SQL, {
        key: str(world_dir / f"{name}.parquet") for key, name in tables.items()}).fetchall()}
    files = {n: pq.read_table(world_dir / f"{n}.parquet") for n in ("spend", "touchpoints", "orders")}
    got = mmm_input(files["spend"], files["touchpoints"], files["orders"],
                    persons=pq.read_table(world_dir / "persons.parquet"))
    got_rows = {(r["date"], r["platform"], r["channel"]): r for r in got.to_pylist()}
    assert set(got_rows) == set(want)
    for key, (spend, impressions, clicks, touches, conversions, revenue) in want.items():
        r = got_rows[key]
        assert (r["impressions"], r["clicks"], r["touches"]) == (impressions, clicks, touches), key
        assert math.isclose(r["spend"], spend, abs_tol=1e-6), key
        assert math.isclose(r["conversions"], conversions, abs_tol=1e-9), key
        assert math.isclose(r["revenue"], revenue, abs_tol=1e-6), key
    assert sum(r["conversions"] for r in got_rows.values()) > 0


def test_mmm_command(world_dir: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["mmm", str(world_dir)])
    assert res.exit_code == 0, res.output
    rows = read_csv(world_dir / "mmm" / "robyn" / "robyn_input.csv")
    days = [date.fromisoformat(r[0]) for r in rows[1:]]
    assert [(b - a).days for a, b in zip(days, days[1:], strict=False)] == [1] * (len(days) - 1)  # gapless
    orders = pq.read_table(world_dir / "orders.parquet").to_pylist()
    paid = sum(float(o["amount"]) for o in orders if o["status"] == "paid")
    assert math.isclose(sum(float(r[1]) for r in rows[1:]), paid, rel_tol=1e-9)
    res = runner.invoke(cli, ["mmm", str(world_dir), "--format", "meridian"])
    assert res.exit_code == 0 and "weeks" in res.output, res.output
    weeks = [date.fromisoformat(r[1]) for r in read_csv(world_dir / "mmm" / "meridian" / "meridian_input.csv")[1:]]
    assert all(d.weekday() == 0 for d in weeks)
    res = runner.invoke(cli, ["mmm", str(world_dir / "mmm")])
    assert res.exit_code == 2 and "has no spend.parquet" in res.output
