/**
 * docs/benchmarks.svg: a horizontal bar chart of lsmdoc / best peer per row of the main table, on a
 * log scale around 1.0 (bars grow right when lsmdoc is better, left when worse). Rows whose target
 * is against one contender (lmdb-js, LevelDB) get a second, lighter bar for that ratio. A diamond
 * marks the target ratio; colours say met (green), not met (orange), no target (grey). Plain SVG
 * text, no dependency.
 */
import { CONTENDERS } from "../contenders/registry.js";
import type { RunFile } from "../results.js";
import { formatRatio, formatValue, thousands } from "./format.js";
import { compare, MAIN_ROWS } from "./rows.js";

const labels = new Map(CONTENDERS.map((c) => [c.name, c.label]));
const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const TICKS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
const GREEN = "#2e9d4f";
const ORANGE = "#e07b1a";
const GREY = "#8a8f98";

interface Bar {
  ratio: number;
  text: string;
  color: string;
  light: boolean;
  targetMin?: number;
}

interface ChartRow {
  label: string;
  bars: Bar[];
  note?: { text: string; color: string };
}

function chartRows(run: RunFile): ChartRow[] {
  const lsmdoc = run.main.find((r) => r.contender === "lsmdoc");
  if (lsmdoc === undefined || !lsmdoc.ok) return [];
  const rows: ChartRow[] = [];
  for (const row of MAIN_ROWS) {
    const values = new Map<string, number>();
    for (const r of run.main) {
      const v = (r.metrics as Record<string, number | undefined>)[row.key];
      if (r.ok && v !== undefined) values.set(r.contender, v);
    }
    const c = compare(row, values, labels);
    if (c.vsBest === undefined) continue;
    const t = row.target;
    const metColor = (met: boolean | undefined): string => (met === undefined ? GREY : met ? GREEN : ORANGE);
    const chart: ChartRow = { label: row.label, bars: [] };
    const bestTarget = t?.kind === "peer" && t.ref === "best" ? t.min : undefined;
    chart.bars.push({
      ratio: c.vsBest.ratio,
      text: `${formatRatio(c.vsBest.ratio)} vs ${labels.get(c.vsBest.peer) ?? c.vsBest.peer}`,
      color: bestTarget !== undefined ? metColor(c.target?.met) : GREY,
      light: false,
      ...(bestTarget !== undefined ? { targetMin: bestTarget } : {}),
    });
    if (c.vsRef !== undefined && t?.kind === "peer") {
      chart.bars.push({
        ratio: c.vsRef.ratio,
        text: `${formatRatio(c.vsRef.ratio)} vs ${labels.get(c.vsRef.peer) ?? c.vsRef.peer}, target ≥ ${t.min.toFixed(1)}×`,
        color: metColor(c.target?.met),
        light: true,
        targetMin: t.min,
      });
    }
    if (t?.kind === "max" && c.target !== undefined) {
      chart.note = {
        text: `lsmdoc ${formatValue(values.get("lsmdoc")!, row.unit)}, target ${c.target.text}: ${c.target.met ? "met" : "not met"}`,
        color: metColor(c.target.met),
      };
    }
    rows.push(chart);
  }
  return rows;
}

export function renderSvg(run: RunFile): string {
  const rows = chartRows(run);
  const W = 1100;
  const left = 330;
  const right = W - 330;
  const top = 70;
  const barH = 14;
  const gap = 12;
  const heights = rows.map((r) => r.bars.length * (barH + 3) + (r.note !== undefined ? 14 : 0) + gap);
  const H = top + heights.reduce((a, b) => a + b, 0) + 60;
  const all = rows.flatMap((r) => r.bars.flatMap((b) => [b.ratio, b.targetMin ?? 1]));
  const minR = Math.min(0.5, ...all);
  const maxR = Math.max(2, ...all);
  const lo = [...TICKS].reverse().find((t) => t <= minR / 1.05) ?? TICKS[0]!;
  const hi = TICKS.find((t) => t >= maxR * 1.05) ?? TICKS[TICKS.length - 1]!;
  const x = (v: number): number => left + ((Math.log10(Math.min(hi, Math.max(lo, v))) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (right - left);
  const s: string[] = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  s.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  s.push(`<text x="16" y="24" font-size="15" font-weight="bold">lsmdoc / best peer, ${esc(thousands(run.n))} documents (${esc(run.date.slice(0, 10))}), log scale: right of 1.0 = lsmdoc better</text>`);
  s.push(
    `<text x="16" y="44" fill="#444">solid: vs the best peer · light: vs the contender a target names · ◆ target · ` +
      `<tspan fill="${GREEN}">met</tspan> · <tspan fill="${ORANGE}">not met</tspan> · <tspan fill="${GREY}">no target</tspan></text>`,
  );
  if (rows.length === 0) {
    s.push(`<text x="16" y="${top + 20}">lsmdoc did not complete the run: no ratios.</text>`);
  }
  const bottom = H - 40;
  for (const t of TICKS.filter((t) => t >= lo && t <= hi)) {
    s.push(`<line x1="${x(t).toFixed(1)}" y1="${top - 8}" x2="${x(t).toFixed(1)}" y2="${bottom}" stroke="${t === 1 ? "#222" : "#e3e3e3"}" stroke-width="${t === 1 ? 1.5 : 1}"${t === 1 ? ' stroke-dasharray="5,3"' : ""}/>`);
    s.push(`<text x="${x(t).toFixed(1)}" y="${bottom + 16}" text-anchor="middle" fill="#444">${t}×</text>`);
  }
  let y = top;
  for (const [i, r] of rows.entries()) {
    s.push(`<text x="${left - 10}" y="${y + barH - 2}" text-anchor="end">${esc(r.label)}</text>`);
    for (const b of r.bars) {
      const x0 = x(1);
      const x1 = x(b.ratio);
      s.push(`<rect x="${Math.min(x0, x1).toFixed(1)}" y="${y}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${barH}" fill="${b.color}"${b.light ? ' fill-opacity="0.45"' : ""}/>`);
      if (b.targetMin !== undefined) {
        const tx = x(b.targetMin);
        const cy = y + barH / 2;
        s.push(`<path d="M${tx.toFixed(1)} ${cy - 7} L${(tx + 5).toFixed(1)} ${cy} L${tx.toFixed(1)} ${cy + 7} L${(tx - 5).toFixed(1)} ${cy} Z" fill="#222"/>`);
      }
      s.push(`<text x="${right + 8}" y="${y + barH - 2}" fill="#333">${esc(b.text)}</text>`);
      y += barH + 3;
    }
    if (r.note !== undefined) {
      s.push(`<text x="${right + 8}" y="${y + 9}" fill="${r.note.color}" font-size="11">${esc(r.note.text)}</text>`);
      y += 14;
    }
    y += heights[i]! - r.bars.length * (barH + 3) - (r.note !== undefined ? 14 : 0);
  }
  s.push(`</svg>`);
  return s.join("\n") + "\n";
}
