/**
 * The soak's picture: one small chart per series over time, hand-written SVG. Each shows
 * the samples (the line), the warm-up (shaded, not judged), the medians of the window's
 * first and last thirds (short grey bars) and the Theil–Sen line the verdict used (dashed;
 * green when the series passed, red when it did not).
 */
import type { Judgement } from "./verdict.js";

const W = 300;
const H = 150;
const COLUMNS = 4;
const PAD = { left: 46, right: 10, top: 30, bottom: 24 };
const HEADER = 44;

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A round number at or above `max` (1, 2 or 5 × a power of ten). */
function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function label(value: number): string {
  const size = Math.abs(value);
  if (size >= 100) return value.toFixed(0);
  if (size >= 10) return value.toFixed(1).replace(/\.0$/, "");
  return value.toFixed(2).replace(/\.?0+$/, "");
}

function chart(j: Judgement, warmupS: number, totalS: number, x0: number, y0: number): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const points = j.series.points;
  const yMax = niceCeiling(Math.max(...points.map((p) => p.v), j.first, j.last) * 1.1);
  const sx = (t: number) => x0 + PAD.left + (t / totalS) * plotW;
  const sy = (v: number) => y0 + PAD.top + plotH - (Math.max(0, Math.min(v, yMax)) / yMax) * plotH;
  const judged = j.series.judged !== false;
  const colour = !judged ? "#6e7781" : j.pass ? "#1a7f37" : "#cf222e";
  const out: string[] = [];
  out.push(`<rect x="${x0 + PAD.left}" y="${y0 + PAD.top}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#d0d7de"/>`);
  out.push(`<rect x="${x0 + PAD.left}" y="${y0 + PAD.top}" width="${(warmupS / totalS) * plotW}" height="${plotH}" fill="#f0f0f0"/>`);
  out.push(
    `<text x="${x0 + PAD.left}" y="${y0 + 14}" font-weight="bold">${escape(j.series.name)} (${escape(j.series.unit)})</text>`,
    `<text x="${x0 + W - PAD.right}" y="${y0 + 14}" text-anchor="end" fill="${colour}" font-weight="bold">${!judged ? "context" : j.pass ? "PASS" : "FAIL"}</text>`,
    `<text x="${x0 + PAD.left}" y="${y0 + 26}" fill="#57606a">${escape(`${label(j.first)} → ${label(j.last)}, ${j.hourly >= 0 ? "+" : ""}${label(j.hourly)}/h`)}</text>`,
  );
  for (const v of [0, yMax / 2, yMax]) {
    out.push(`<text x="${x0 + PAD.left - 4}" y="${sy(v) + 4}" text-anchor="end" fill="#57606a">${label(v)}</text>`);
    if (v > 0) out.push(`<line x1="${x0 + PAD.left}" x2="${x0 + W - PAD.right}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eaeef2"/>`);
  }
  const minutes = totalS / 60;
  const tick = minutes <= 2 ? 0.5 : minutes <= 12 ? 2 : 5;
  for (let m = 0; m <= minutes + 1e-9; m += tick) {
    out.push(`<text x="${sx(m * 60)}" y="${y0 + H - 8}" text-anchor="middle" fill="#57606a">${label(m)}</text>`);
  }
  if (points.length > 0) {
    const path = points.map((p) => `${sx(p.t).toFixed(1)},${sy(p.v).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${path}" fill="none" stroke="#0969da" stroke-width="1.5"/>`);
  }
  const kept = points.filter((p) => p.t > warmupS);
  if (kept.length >= 2) {
    const third = Math.max(1, Math.floor(kept.length / 3));
    const firstEnd = kept[third - 1]!.t;
    const lastStart = kept[kept.length - third]!.t;
    out.push(`<line x1="${sx(kept[0]!.t)}" x2="${sx(firstEnd)}" y1="${sy(j.first)}" y2="${sy(j.first)}" stroke="#6e7781" stroke-width="3" opacity="0.6"/>`);
    out.push(`<line x1="${sx(lastStart)}" x2="${sx(kept[kept.length - 1]!.t)}" y1="${sy(j.last)}" y2="${sy(j.last)}" stroke="#6e7781" stroke-width="3" opacity="0.6"/>`);
    const a = kept[0]!.t;
    const b = kept[kept.length - 1]!.t;
    out.push(
      `<line x1="${sx(a)}" x2="${sx(b)}" y1="${sy(j.intercept + j.slope * a)}" y2="${sy(j.intercept + j.slope * b)}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="5 3"/>`,
    );
  }
  return out.join("\n");
}

/** The whole picture for one backend. */
export function renderSvg(title: string, subtitle: string, judgements: readonly Judgement[], warmupS: number, totalS: number): string {
  const rows = Math.ceil(judgements.length / COLUMNS);
  const width = COLUMNS * W;
  const height = HEADER + rows * H + 16;
  const charts = judgements.map((j, i) => chart(j, warmupS, totalS, (i % COLUMNS) * W, HEADER + Math.floor(i / COLUMNS) * H));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="20" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="8" y="36" fill="#57606a">${escape(subtitle)}</text>`,
    ...charts,
    `<text x="8" y="${height - 4}" fill="#57606a">x: minutes since the load started; shaded: warm-up (not judged); grey bars: first- and last-third medians; dashed: Theil–Sen slope</text>`,
    "</svg>",
    "",
  ].join("\n");
}
