/**
 * A time-series chart (uPlot, canvas) sized to its container, with its own legend and the
 * figures also given as a table for screen readers and for copying.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface ChartSeries {
  label: string;
  color: string;
  values: (number | null)[];
}

interface Props {
  label: string;
  /** Bucket starts, in ms. */
  times: number[];
  series: ChartSeries[];
  /** Stacked bars (counts) rather than lines. */
  stacked?: boolean;
  format(value: number): string;
}

const HEIGHT = 220;

function stack(series: ChartSeries[]): (number | null)[][] {
  const sums = series[0]?.values.map(() => 0) ?? [];
  return series.map((s) => s.values.map((v, i) => (sums[i]! += v ?? 0)));
}

export function Chart({ label, times, series, stacked = false, format }: Props) {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (element === null || times.length === 0) return;
    const xs = times.map((t) => t / 1000);
    const ys = stacked ? stack(series) : series.map((s) => s.values);
    // Stacked bars are drawn tallest first, so each status shows as its own slice.
    const order = stacked ? series.map((_, i) => series.length - 1 - i) : series.map((_, i) => i);
    const bars = uPlot.paths.bars!({ size: [0.8, 48], gap: 1 });
    const plot = new uPlot(
      {
        width: Math.max(240, element.clientWidth),
        height: HEIGHT,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          { stroke: "currentColor", grid: { stroke: "rgba(128,128,128,0.15)" } },
          { stroke: "currentColor", size: 64, grid: { stroke: "rgba(128,128,128,0.15)" }, values: (_u, splits) => splits.map((v) => format(v)) },
        ],
        series: [
          {},
          ...order.map((i) => ({
            label: series[i]!.label,
            stroke: series[i]!.color,
            width: stacked ? 0 : 2,
            fill: stacked ? series[i]!.color : undefined,
            paths: stacked ? bars : undefined,
            points: { show: !stacked && times.length < 40 },
            spanGaps: false,
          })),
        ],
      },
      [xs, ...order.map((i) => ys[i]!)] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, element.clientWidth), height: HEIGHT }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [times, series, stacked]);

  return (
    <figure class="chart">
      <div ref={container} class="plot" role="img" aria-label={`${label} chart; the figures are in the table below`} />
      <figcaption class="legend">
        {series.map((s) => (
          <span key={s.label}>
            <span class="swatch" style={{ background: s.color }} aria-hidden="true" /> {s.label}
          </span>
        ))}
      </figcaption>
      <details>
        <summary>Figures</summary>
        <div class="table-wrap">
          <table>
            <caption class="sr-only">{label}</caption>
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                {series.map((s) => <th key={s.label} scope="col" class="num">{s.label}</th>)}
              </tr>
            </thead>
            <tbody>
              {times.map((t, i) => (
                <tr key={t}>
                  <td>{new Date(t).toISOString().slice(0, 16).replace("T", " ")}</td>
                  {series.map((s) => <td key={s.label} class="num">{s.values[i] === null ? "—" : format(s.values[i]!)}</td>)}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
