"""Robustness of material fingerprinting: recall per edit family, precision, negatives.

Every matcher sees the same dataset (:mod:`fingerprint_dataset`) and is
scored the same way, from the set of image pairs it declares matched:

* **recall** of a family: the share of (original, variant) pairs matched;
  the overall recall is over every variant;
* **all-pairs precision**: of all matched pairs among originals, variants,
  distractors and flat images, the share whose two images come from the
  same photo;
* **negatives**: flat images matched to anything; pairs of different
  photos laid out on one template (matched alone, without their originals,
  so that nothing can chain them); the two shots of one scene (likewise
  alone).

omniplug is scored through ``group_assets`` (two images in one asset are a
matched pair: grouping is transitive); each peer hash by its usual
threshold on the pairwise Hamming distance (:mod:`fingerprint_peers`).

``python -m benchmarks.fingerprint_eval`` prints the table and writes it to
``benchmarks/results/fingerprint_robustness.{md,json}``
(``OMNIPLUG_BENCH_FP_PHOTOS`` sets the size, see :mod:`fingerprint_dataset`).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fingerprint_dataset as fds  # noqa: E402
import fingerprint_edits as fe  # noqa: E402
import fingerprint_peers as fp  # noqa: E402

__all__ = ["Score", "score", "pairs_from_labels", "OmniplugMatcher", "peer_matcher", "evaluate", "render",
           "RESULTS_DIR", "OVERALL_RECALL_GOAL", "PRECISION_GOAL", "peer_codes", "write", "dataset_summary", "main"]

RESULTS_DIR = HERE / "results"
OVERALL_RECALL_GOAL = 0.97
PRECISION_GOAL = 0.999
#: A matcher: row positions of the dataset -> matched pairs ``(k, 2)`` of row positions.
Matcher = Callable[[np.ndarray], np.ndarray]


@dataclass
class Score:
    """The figures of one matcher; fractions are (hits, total) pairs of counts."""

    matcher: str
    family: dict[str, tuple[int, int]] = field(default_factory=dict)
    edit: dict[str, tuple[int, int]] = field(default_factory=dict)
    overall: tuple[int, int] = (0, 0)
    precision: tuple[int, int] = (0, 0)
    flat_matched: tuple[int, int] = (0, 0)
    template_pairs: tuple[int, int] = (0, 0)
    scene_pairs: tuple[int, int] = (0, 0)
    missed: list[str] = field(default_factory=list)
    false_pairs: dict[str, int] = field(default_factory=dict)
    false_examples: list[tuple[str, str]] = field(default_factory=list)
    direct_family: dict[str, tuple[int, int]] = field(default_factory=dict)
    direct_overall: tuple[int, int] = (0, 0)
    bridges: list[tuple[str, str]] = field(default_factory=list)
    bridge_sources: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def pairs_from_labels(labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Every pair of ``rows`` sharing a label (a grouping's matched pairs); label -1 matches nothing."""
    sub = labels[rows]
    order = np.argsort(sub, kind="stable")
    out: list[np.ndarray] = []
    bounds = np.flatnonzero(np.diff(sub[order])) + 1
    for group in np.split(order, bounds):
        if len(group) < 2 or sub[group[0]] < 0:
            continue
        members = np.sort(rows[group])
        i, j = np.triu_indices(len(members), 1)
        out.append(np.stack([members[i], members[j]], axis=1))
    return np.concatenate(out) if out else np.empty((0, 2), np.int64)


def _pair_keys(pairs: np.ndarray, n: int) -> np.ndarray:
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return lo.astype(np.int64) * n + hi


def _recall(ds: fds.Dataset, s: Score, matched: np.ndarray) -> None:
    """Per edit and family: is each variant matched with its original."""
    source, family, edit, item = ds.column("source"), ds.column("family"), ds.column("edit"), ds.column("item_id")
    n = len(source)
    keys = set(_pair_keys(matched, n).tolist()) if len(matched) else set()
    originals = {source[i]: i for i in ds.rows("original")}
    hits: dict[str, list[int]] = {}
    for v in ds.rows("variant"):
        o = originals[source[v]]
        ok = int(min(o, v) * n + max(o, v) in keys)
        hits.setdefault(f"{family[v]}/{edit[v]}", []).append(ok)
        if not ok:
            s.missed.append(str(item[v]))
    for key, h in hits.items():
        s.edit[key] = (sum(h), len(h))
        fam = key.split("/")[0]
        a, b = s.family.get(fam, (0, 0))
        s.family[fam] = (a + sum(h), b + len(h))
    s.family = {f: s.family[f] for f in fe.FAMILIES if f in s.family}
    s.overall = (sum(a for a, _ in s.family.values()), sum(b for _, b in s.family.values()))


def _who(ds: fds.Dataset, row: int) -> str:
    """How a bridge end is named: its kind and photo (and the template, for templates)."""
    kind, source, edit = ds.column("kind")[row], ds.column("source")[row], ds.column("edit")[row]
    return f"{kind} {edit}/{source}" if kind == "template" else f"{kind} {source}"


def _wrong(ds: fds.Dataset, pairs: np.ndarray) -> np.ndarray:
    source = ds.column("source")
    return pairs[source[pairs[:, 0]] != source[pairs[:, 1]]] if len(pairs) else pairs


def score(ds: fds.Dataset, name: str, matcher: Matcher) -> Score:
    """Run ``matcher`` on the main set, the template set and the scene set; score it."""
    t0 = time.perf_counter()
    kind, source, item = ds.column("kind"), ds.column("source"), ds.column("item_id")
    s = Score(name)
    matched = matcher(ds.rows("original", "variant", "distractor", "flat"))
    _recall(ds, s, matched)
    wrong = _wrong(ds, matched)
    s.precision = (len(matched) - len(wrong), len(matched))
    for a, b in wrong:
        # Which kinds of items the wrong pairs join (variant~variant: edits of two different photos).
        key = "~".join(sorted((str(kind[a]), str(kind[b]))))
        s.false_pairs[key] = s.false_pairs.get(key, 0) + 1
        if len(s.false_examples) < 30:
            s.false_examples.append((str(item[a]), str(item[b])))
    flat = set(ds.rows("flat").tolist())
    s.flat_matched = (len({int(x) for x in matched.ravel() if int(x) in flat}), len(flat))
    templates = ds.rows("template")
    wrong_tp = _wrong(ds, matcher(templates))
    _, per_source = np.unique(source[templates].astype(str), return_counts=True)
    total = len(templates) * (len(templates) - 1) // 2 - int((per_source * (per_source - 1) // 2).sum())
    s.template_pairs = (len(wrong_tp), total)
    scenes = ds.rows("scene")
    scene_of = {i: source[i].rsplit("/", 1)[0] for i in scenes}
    s.scene_pairs = (int(sum(1 for a, b in matcher(scenes) if scene_of[a] == scene_of[b])), len(scenes) // 2)
    direct = getattr(matcher, "direct", None)
    if direct is not None and (len(wrong) or len(wrong_tp)):
        # Grouping is transitive: name the direct matches that merged different photos.
        for a, b in direct(np.concatenate([wrong, wrong_tp])):
            s.bridges.append((str(item[a]), str(item[b])))
            key = " ~ ".join(sorted((_who(ds, a), _who(ds, b))))
            s.bridge_sources[key] = s.bridge_sources.get(key, 0) + 1
    if direct is not None:
        _direct_recall(ds, s, direct)
    s.seconds = time.perf_counter() - t0
    return s


def _direct_recall(ds: fds.Dataset, s: Score, direct: Callable[[np.ndarray], np.ndarray]) -> None:
    """Recall of a grouping matcher without transitivity: each (original, variant) pair on its own."""
    source, family = ds.column("source"), ds.column("family")
    originals = {source[i]: i for i in ds.rows("original")}
    variants = ds.rows("variant")
    pairs = np.array([(originals[source[v]], v) for v in variants], dtype=np.int64).reshape(-1, 2)
    hit = set(direct(pairs, len(pairs))[:, 1].tolist())
    for v in variants:
        a, b = s.direct_family.get(family[v], (0, 0))
        s.direct_family[family[v]] = (a + int(v in hit), b + 1)
    s.direct_overall = (len(hit), len(variants))


class OmniplugMatcher:
    """omniplug: ``fingerprint_images`` once over the whole dataset, then ``group_assets`` per row set.

    Calling it with row positions gives the matched pairs (two rows in one
    asset); :meth:`direct` tells which of some pairs match on their own,
    without a chain through other images (the bridges that merge assets).
    """

    def __init__(self, ds: fds.Dataset, **group_kwargs: Any) -> None:
        from omniplug.fingerprint import fingerprint_images

        self.item = ds.column("item_id")
        table = pa.table({"material_id": ds.table.column("item_id"),
                          "platform": pa.array(["bench"] * len(self.item), pa.string()),
                          "content": ds.table.column("content")})
        t0 = time.perf_counter()
        self.fingerprints = fingerprint_images(table).fingerprints
        #: Seconds ``fingerprint_images`` took over the whole dataset (all threads).
        self.seconds = time.perf_counter() - t0
        self.kwargs = group_kwargs
        self.position = {m: i for i, m in enumerate(self.item)}
        self.fp_row = np.array([self.position[m] for m in self.fingerprints.column("material_id").to_pylist()],
                               dtype=np.int64)

    def _group(self, wanted: np.ndarray) -> pa.Table:
        from omniplug.assets import group_assets

        return group_assets(self.fingerprints.filter(pa.array(wanted)), **self.kwargs)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        groups = self._group(np.isin(self.fp_row, rows))
        labels = np.full(len(self.item), -1, np.int64)
        for m, a in zip(groups.column("material_id").to_pylist(), groups.column("asset_id").to_numpy(), strict=True):
            labels[self.position[m]] = a
        return pairs_from_labels(labels, rows)

    def direct(self, pairs: np.ndarray, limit: int = 20_000) -> np.ndarray:
        """The pairs (of the first ``limit``) that ``group_assets`` joins given only those two images."""
        out = [p for p in pairs[:limit] if len(set(self._group(np.isin(self.fp_row, p)).column("asset_id")
                                                       .to_pylist())) == 1]
        return np.array(out, dtype=np.int64).reshape(-1, 2)


def peer_codes(ds: fds.Dataset) -> tuple[dict[str, np.ndarray], float]:
    """Every peer hash of every item, cached next to the dataset; and the seconds hashing took."""
    path = fds.DATA_DIR / f"fingerprint-v{fds.VERSION}-s{ds.seed}-p{len(ds.photos)}-peers.npz"
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files if k != "seconds"}, float(z["seconds"])
    t0 = time.perf_counter()
    codes = fp.hash_all(ds.table.column("content").to_pylist())
    seconds = time.perf_counter() - t0
    fds.DATA_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(path, seconds=seconds, **codes)
    return codes, seconds


def peer_matcher(codes: np.ndarray, threshold: int) -> Matcher:
    """A peer hash matched at Hamming distance <= ``threshold``, pairwise (no grouping)."""
    return lambda rows: fp.pairs_within(codes, threshold, rows)


def evaluate(ds: fds.Dataset, with_omniplug: bool = True) -> list[Score]:
    """Score omniplug (when importable and wanted) and every peer on ``ds``."""
    scores: list[Score] = []
    if with_omniplug:
        match = OmniplugMatcher(ds)
        s = score(ds, "omniplug", match)
        s.seconds += match.seconds
        scores.append(s)
    codes, seconds = peer_codes(ds)
    for name, hasher in fp.HASHERS.items():
        s = score(ds, f"{name} <= {hasher.threshold}", peer_matcher(codes[name], hasher.threshold))
        s.seconds += seconds
        scores.append(s)
    return scores


def _pct(f: tuple[int, int], digits: int = 1) -> str:
    return f"{100 * f[0] / f[1]:.{digits}f} %" if f[1] else "-"


def _mark(value: tuple[int, int], goal: float, higher: bool = True) -> str:
    if not value[1]:
        return ""
    r = value[0] / value[1]
    return " ✓" if (r >= goal if higher else r <= goal) else " ✗"


def render(scores: list[Score], ds_summary: dict[str, Any]) -> str:
    """The robustness table (Markdown): one column per matcher, goals marked on omniplug's column."""
    d = ds_summary
    head = ["| | goal |"] + [f" {s.matcher} |" for s in scores]
    lines = ["## Material fingerprinting: robustness", "",
             f"Dataset (seed {d.get('seed')}): {d.get('photos')} photos x {d.get('edits_per_photo')} edits = "
             f"{d.get('variant')} variants, {d.get('distractor')} distractors, {d.get('flat')} flat images, "
             f"{d.get('template')} template layouts, {d.get('scene')} same-scene shots. Recall = share of "
             "(original, variant) pairs matched; ✓/✗ against the goal. omniplug groups transitively (an "
             "edit can join its original through another edit); \"alone\" is its recall when the original and "
             "the variant are grouped by themselves.", "",
             "".join(head), "|---|---|" + "---|" * len(scores)]
    fams = list(scores[0].family) if scores else []
    for f in fams:
        goal = fe.GOALS[f]
        n = scores[0].family[f][1]
        row = f"| {f} ({n}) | ≥ {goal * 100:g} % |"
        for s in scores:
            alone = s.direct_family.get(f)
            extra = f" (alone {_pct(alone)})" if alone and alone != s.family[f] else ""
            row += f" {_pct(s.family[f])}{_mark(s.family[f], goal)}{extra} |"
        lines.append(row)
    lines.append("| **overall recall** | ≥ 97 % |" + "".join(
        f" **{_pct(s.overall)}**{_mark(s.overall, OVERALL_RECALL_GOAL)} |" for s in scores))
    if any(s.direct_overall[1] for s in scores):
        lines.append("| overall recall without chains (original and variant alone) | |" + "".join(
            f" {_pct(s.direct_overall)} |" if s.direct_overall[1] else " (pairwise already) |" for s in scores))
    lines.append("| **all-pairs precision** (matched pairs) | ≥ 99.9 % |" + "".join(
        f" **{_pct(s.precision, 2)}**{_mark(s.precision, PRECISION_GOAL)} ({s.precision[1]:,}) |" for s in scores))
    lines.append("| flat images matched to anything | 0 |" + "".join(
        f" {s.flat_matched[0]} of {s.flat_matched[1]}{_mark(s.flat_matched, 0, False)} |" for s in scores))
    lines.append("| different photos, same template: pairs matched | 0 |" + "".join(
        f" {s.template_pairs[0]} of {s.template_pairs[1]}{_mark(s.template_pairs, 0, False)} |" for s in scores))
    lines.append("| same scene, different shots: pairs matched | 0 |" + "".join(
        f" {s.scene_pairs[0]} of {s.scene_pairs[1]}{_mark(s.scene_pairs, 0, False)} |" for s in scores))
    lines.append("| seconds (hashing + matching) | |" + "".join(f" {s.seconds:.1f} |" for s in scores))
    if scores and scores[0].matcher == "omniplug":
        ours = scores[0]
        weak = [(k, v) for k, v in ours.edit.items() if v[0] < v[1]]
        weak.sort(key=lambda kv: kv[1][0] / kv[1][1])
        if weak:
            lines += ["", "omniplug's missed edits (matched / photos): " + ", ".join(
                f"{k} {a}/{b}" for k, (a, b) in weak[:25]) + (" ..." if len(weak) > 25 else "")]
    for s in scores:
        if s.false_pairs:
            lines += ["", f"{s.matcher}: wrong pairs by the kinds they join: " + ", ".join(
                f"{k} {v:,}" for k, v in sorted(s.false_pairs.items(), key=lambda kv: -kv[1]))]
        if s.bridge_sources:
            lines += ["", f"{s.matcher}: direct matches between different photos, by the photos they join "
                      "(the other wrong pairs follow by transitivity): " + ", ".join(
                          f"{k} ({v})" for k, v in sorted(s.bridge_sources.items(), key=lambda kv: -kv[1]))]
    return "\n".join(lines)


def write(scores: list[Score], text: str, summary: dict[str, Any], stem: str = "fingerprint_robustness") -> Path:
    """Write the table and the full scores (per edit, missed items) under ``benchmarks/results/``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{stem}.md").write_text(text + "\n", encoding="utf-8")
    payload = {"dataset": summary, "scores": [asdict(s) for s in scores]}
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return RESULTS_DIR / f"{stem}.md"


def dataset_summary(ds: fds.Dataset) -> dict[str, Any]:
    """What the dataset holds, for the report."""
    return {"seed": ds.seed, "photos": len(ds.photos), "edits_per_photo": len(fe.edits()), **ds.summary()}


def _omniplug_available() -> bool:
    try:
        import omniplug.assets  # noqa: F401
        import omniplug.fingerprint  # noqa: F401
    except ImportError as exc:
        print(f"omniplug fingerprinting not importable ({exc}): peers only", file=sys.stderr)
        return False
    return True


def main() -> int:
    """Build (or load) the dataset, score every matcher, print and write the table."""
    t0 = time.perf_counter()
    ds = fds.dataset()
    summary = dataset_summary(ds)
    print(f"dataset ready in {time.perf_counter() - t0:.1f} s: {summary}", file=sys.stderr)
    scores = evaluate(ds, with_omniplug=_omniplug_available())
    text = render(scores, summary)
    print(text)
    print(f"written to {write(scores, text, summary)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
