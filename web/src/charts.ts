/**
 * Thin uPlot wrappers: one chart per panel, created once and fed new data on every refresh
 * (recreating would flicker and leak canvases). Width follows the card, so the same chart works
 * on a desktop grid and a 390 px phone.
 */
import uPlot from 'uplot';

export interface ChartSpec {
  label: string;
  color: string;
  kind: 'line' | 'bars';
  /** How the y axis and the legend print a value. */
  format: (v: number) => string;
  height?: number;
  /** Fixed y-range floor for rates so an all-zero series still shows an axis. */
  minMax?: number;
}

export interface Chart {
  /** xs in Unix seconds; ys may contain nulls (gaps). */
  setData(xs: number[], ys: (number | null)[]): void;
  destroy(): void;
}

export function createChart(container: HTMLElement, spec: ChartSpec): Chart {
  const width = () => Math.max(200, Math.floor(container.clientWidth));
  const bars = uPlot.paths.bars?.({ size: [0.7, 40], gap: 1 });
  // Bars are centred on their x, so the first and last would be cut in half without padding.
  let step = 0;
  const opts: uPlot.Options = {
    width: width(),
    height: spec.height ?? 180,
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    padding: [8, 8, 0, 0],
    scales: {
      x: {
        time: true,
        range: (_u, min, max) => (spec.kind === 'bars' && step > 0 ? [min - step / 2, max + step / 2] : [min, max]),
      },
      y: {
        range: (_u, _min, max) => [0, Math.max(spec.minMax ?? 1, max * 1.15)],
      },
    },
    axes: [
      { stroke: '#64748b', grid: { stroke: '#eef2f7', width: 1 }, ticks: { stroke: '#e2e8f0', width: 1 }, font: '11px system-ui' },
      {
        stroke: '#64748b',
        grid: { stroke: '#eef2f7', width: 1 },
        ticks: { show: false },
        font: '11px system-ui',
        size: 56,
        values: (_u, splits) => splits.map((v) => spec.format(v)),
      },
    ],
    series: [
      {},
      {
        label: spec.label,
        stroke: spec.color,
        width: spec.kind === 'bars' ? 0 : 2,
        fill: spec.kind === 'bars' ? spec.color : `${spec.color}1f`,
        paths: spec.kind === 'bars' ? bars : undefined,
        // Lines skip hours without sends, so an hour between two gaps would draw nothing: mark it.
        points: {
          show: spec.kind === 'line',
          size: 5,
          fill: spec.color,
          filter: (u, seriesIdx) => {
            const ys = u.data[seriesIdx] ?? [];
            const isolated: number[] = [];
            for (let i = 0; i < ys.length; i++) {
              if (ys[i] != null && ys[i - 1] == null && ys[i + 1] == null) isolated.push(i);
            }
            return isolated;
          },
        },
        spanGaps: false,
        value: (_u, v) => (v === null ? '—' : spec.format(v)),
      },
    ],
  };
  const plot = new uPlot(opts, [[], []], container);
  const observer = new ResizeObserver(() => {
    const w = width();
    if (w !== plot.width) plot.setSize({ width: w, height: plot.height });
  });
  observer.observe(container);
  return {
    setData(xs, ys) {
      step = xs.length > 1 ? (xs[1] ?? 0) - (xs[0] ?? 0) : 3600;
      plot.setData([xs, ys] as uPlot.AlignedData);
    },
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}
