/**
 * Number formatting for the report: rates as 57.8k, times in ms or s, sizes in MiB, ratios as 1.23×.
 */
import type { Unit } from "./rows.js";

export function formatRate(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(2)}k`;
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

export function formatMs(x: number): string {
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`;
  if (x >= 100) return `${x.toFixed(0)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  return `${x.toFixed(2)} ms`;
}

export function formatBytes(x: number): string {
  const mib = x / 1024 / 1024;
  if (mib >= 1024) return `${(mib / 1024).toFixed(2)} GiB`;
  return mib >= 100 ? `${mib.toFixed(0)} MiB` : `${mib.toFixed(1)} MiB`;
}

export function formatValue(x: number, unit: Unit): string {
  return unit === "ops" ? formatRate(x) : unit === "ms" ? formatMs(x) : formatBytes(x);
}

export function formatRatio(x: number): string {
  return `${x.toFixed(x >= 10 ? 0 : 2)}×`;
}

export const thousands = (x: number): string => x.toLocaleString("en-US");
