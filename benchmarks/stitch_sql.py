"""Connected components in DuckDB SQL: the way a warehouse team stitches.

Identifiers are numbered in SQL (``DISTINCT`` over both sides, a
``row_number``), links become integer edges by joining on ``(type, value)``,
and one of two iterative algorithms runs as a loop of ``CREATE TABLE AS``
statements driven from Python:

* ``label_propagation``: every node takes the smallest label among itself
  and its neighbours until nothing changes; as many rounds as the longest
  shortest path (the 50-OAID chains make that 50+).
* ``large_small_star``: Kiveris et al., "Connected Components in MapReduce
  and Beyond" (SoCC 2014): alternate large-star (link every larger neighbour
  to the smallest node of the neighbourhood) and small-star (link every
  smaller neighbour to it) until the edge set stops changing; each component
  ends as a star around its smallest node, in O(log^2 n) rounds.

Edges are kept as ``(hi, lo)`` with ``hi > lo``, which lets both steps be
a ``GROUP BY`` and a join.
"""

from __future__ import annotations

from typing import Any

__all__ = ["duckdb_components", "ALGORITHMS"]

ALGORITHMS = ("label_propagation", "large_small_star")
_MAX_ROUNDS = 10_000


def duckdb_components(inputs: list[str], out: str, algorithm: str) -> dict[str, Any]:
    """Stitch the links of the Parquet ``inputs`` into ``out`` (persons Parquet).

    Args:
        inputs: ``identity_links`` Parquet files.
        out: the ``persons`` Parquet to write (``id_type, id_value, person_id``).
        algorithm: one of :data:`ALGORITHMS`.

    Returns:
        ``identifiers``, ``components`` and ``rounds`` (iterations run).
    """
    import duckdb

    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {ALGORITHMS}")
    con = duckdb.connect()
    try:
        # Row order of intermediate tables is irrelevant; not keeping it is faster.
        con.execute("SET preserve_insertion_order = false")
        con.execute("CREATE TABLE links AS SELECT left_type, left_value, right_type, right_value "
                    "FROM read_parquet(?)", [inputs])
        con.execute("""
            CREATE TABLE nodes AS
            SELECT (row_number() OVER ()) - 1 AS id, t AS id_type, v AS id_value FROM (
                SELECT left_type AS t, left_value AS v FROM links
                UNION SELECT right_type, right_value FROM links)""")
        con.execute("""
            CREATE TABLE e AS SELECT DISTINCT greatest(a.id, b.id) AS hi, least(a.id, b.id) AS lo
            FROM links l
            JOIN nodes a ON a.id_type = l.left_type AND a.id_value = l.left_value
            JOIN nodes b ON b.id_type = l.right_type AND b.id_value = l.right_value
            WHERE a.id <> b.id""")
        con.execute("DROP TABLE links")
        run = _label_propagation if algorithm == "label_propagation" else _large_small_star
        rounds = run(con)
        con.execute(f"COPY (SELECT n.id_type, n.id_value, l.label AS person_id "
                    f"FROM nodes n JOIN labels l USING (id)) TO '{_quote(out)}' (FORMAT parquet)")
        identifiers, components = con.execute(
            "SELECT count(*), count(DISTINCT label) FROM labels").fetchone()  # type: ignore[misc]
        return {"identifiers": int(identifiers), "components": int(components), "rounds": rounds}
    finally:
        con.close()


def _quote(path: str) -> str:
    return path.replace("'", "''")


def _label_propagation(con: Any) -> int:
    """Min-label propagation; leaves ``labels(id, label)``."""
    con.execute("CREATE TABLE labels AS SELECT id, id AS label FROM nodes")
    con.execute("CREATE TABLE sym AS SELECT hi AS a, lo AS b FROM e UNION ALL SELECT lo, hi FROM e")
    for rounds in range(1, _MAX_ROUNDS):
        con.execute("""
            CREATE TABLE next_labels AS
            SELECT l.id, least(l.label, coalesce(m.label, l.label)) AS label
            FROM labels l LEFT JOIN (
                SELECT s.a AS id, min(n.label) AS label FROM sym s JOIN labels n ON n.id = s.b GROUP BY s.a
            ) m USING (id)""")
        changed = con.execute("SELECT count(*) FROM labels l JOIN next_labels n USING (id) "
                              "WHERE n.label <> l.label").fetchone()[0]
        con.execute("DROP TABLE labels")
        con.execute("ALTER TABLE next_labels RENAME TO labels")
        if changed == 0:
            return rounds
    raise RuntimeError("label propagation did not converge")


def _large_small_star(con: Any) -> int:
    """Alternating large-star / small-star until a fixpoint; leaves ``labels(id, label)``."""
    rounds, same = 0, False
    while not same:
        rounds += 1
        if rounds > _MAX_ROUNDS:
            raise RuntimeError("large-star/small-star did not converge")
        # Large-star: each edge (hi, lo) becomes (hi, smallest neighbour of lo, or lo).
        con.execute("CREATE TABLE m AS SELECT hi AS x, min(lo) AS m FROM e GROUP BY hi")
        con.execute("""CREATE TABLE e_large AS SELECT DISTINCT e.hi, coalesce(m.m, e.lo) AS lo
                       FROM e LEFT JOIN m ON m.x = e.lo""")
        con.execute("DROP TABLE m")
        # Small-star: node u's smaller neighbours and u itself attach to the smallest of them.
        con.execute("CREATE TABLE m AS SELECT hi AS x, min(lo) AS m FROM e_large GROUP BY hi")
        con.execute("""CREATE TABLE e_next AS
                       SELECT e.lo AS hi, m.m AS lo FROM e_large e JOIN m ON m.x = e.hi WHERE e.lo <> m.m
                       UNION SELECT x, m FROM m""")
        con.execute("DROP TABLE m")
        con.execute("DROP TABLE e_large")
        same = con.execute("""SELECT (SELECT count(*) FROM e) = (SELECT count(*) FROM e_next)
                              AND NOT EXISTS (SELECT hi, lo FROM e_next EXCEPT SELECT hi, lo FROM e)""").fetchone()[0]
        con.execute("DROP TABLE e")
        con.execute("ALTER TABLE e_next RENAME TO e")
    # A star per component: every other node has one edge, to the smallest node.
    con.execute("""CREATE TABLE labels AS
                   SELECT n.id, coalesce(s.lo, n.id) AS label
                   FROM nodes n LEFT JOIN (SELECT hi, min(lo) AS lo FROM e GROUP BY hi) s ON s.hi = n.id""")
    return rounds
