"""The report's inline stylesheet and script (no external fonts, libraries or requests).

The page must render Chinese text on any machine, so the font stack lists
the CJK system fonts of macOS, Windows and Linux. The script only sorts
tables when a header is clicked; the page is complete without it.
"""

from __future__ import annotations

__all__ = ["CSP", "CSS", "SCRIPT"]

#: Content-Security-Policy of the page: nothing may load from anywhere but the file itself.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

CSS = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --card: #ffffff; --bg: #f6f7f9; --accent: #2563eb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
  "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif; }
header.top { background: #111827; color: #f9fafb; padding: 20px 32px 14px; }
header.top h1 { margin: 0 0 4px; font-size: 22px; font-weight: 600; }
header.top .sub { color: #d1d5db; font-size: 13px; }
nav { display: flex; flex-wrap: wrap; gap: 4px 18px; margin-top: 10px; font-size: 13px; }
nav a { color: #93c5fd; text-decoration: none; }
main { max-width: 1240px; margin: 0 auto; padding: 18px 24px 40px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px 20px;
  margin: 18px 0; }
section h2 { margin: 0 0 2px; font-size: 18px; }
section h3 { margin: 16px 0 6px; font-size: 14px; color: #374151; }
p.lead { margin: 2px 0 12px; color: var(--muted); }
p.note { margin: 8px 0; padding: 8px 12px; background: #fffbeb; border-left: 3px solid #f59e0b; color: #78350f;
  border-radius: 4px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.kpi .v { font-size: 22px; font-weight: 600; }
.kpi .k { color: var(--muted); font-size: 12px; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 12px 24px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px 20px; }
figure.chart { margin: 6px 0; }
figure.chart svg { max-width: 100%; height: auto; display: block; font-family: inherit; }
figure.chart figcaption { color: var(--muted); font-size: 12px; margin-top: 2px; }
figure.chart text { fill: #374151; }
figure.chart text.val { fill: #4b5563; }
figure.chart text.in { fill: #ffffff; font-weight: 600; }
figure.chart .mark:hover rect { opacity: .8; }
figure.spark { margin: 0; display: inline-block; vertical-align: middle; }
.funnel-box h3 { margin: 4px 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 5px 7px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: middle;
  white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; }
table.matrix td:nth-child(2) { white-space: normal; min-width: 150px; }
th { background: #f9fafb; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th:hover { color: var(--accent); }
td.thumb { width: 60px; }
td.thumb img, td.thumb .ph { width: 52px; height: 52px; object-fit: cover; border-radius: 6px; display: block;
  background: #e5e7eb; }
td.thumb .ph { display: flex; align-items: center; justify-content: center; color: #9ca3af; font-size: 11px; }
td.cell { text-align: center; font-size: 12px; min-width: 64px; }
td.cell .m { color: #111827; font-weight: 600; }
td.cell.off { color: #d1d5db; }
.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; color: #374151; }
.up { color: #047857; } .down { color: #b91c1c; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin: 24px 0; }
@media print { body { background: #fff; } section { break-inside: avoid; } }
"""

SCRIPT = """
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-v');
    if (v !== null && v !== '') { var f = parseFloat(v); if (!isNaN(f)) { return f; } }
    return (cell.textContent || '').trim().toLowerCase();
  }
  var tables = document.querySelectorAll('table.sortable');
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.querySelectorAll('thead th');
      for (var i = 0; i < heads.length; i++) {
        (function (th, col) {
          th.addEventListener('click', function () {
            var body = table.tBodies[0];
            if (!body) { return; }
            var rows = Array.prototype.slice.call(body.rows);
            var asc = th.getAttribute('data-dir') !== 'asc';
            for (var h = 0; h < heads.length; h++) { heads[h].removeAttribute('data-dir'); }
            th.setAttribute('data-dir', asc ? 'asc' : 'desc');
            rows.sort(function (a, b) {
              var x = key(a.cells[col]), y = key(b.cells[col]);
              if (typeof x !== typeof y) { x = String(x); y = String(y); }
              return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
            });
            for (var r = 0; r < rows.length; r++) { body.appendChild(rows[r]); }
          });
        })(heads[i], i);
      }
    })(tables[t]);
  }
})();
"""
