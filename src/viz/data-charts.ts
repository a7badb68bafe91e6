/**
 * Plotly figure specs (plain `{data, layout}` objects) for exploring a labelled image data set.
 * Pure functions from numbers to specs: notebooks display them, the CLI writes them into an
 * HTML report.
 */
import type { FigureSpec } from '../types';

/** Bar chart of how many labels have each length. */
export function labelLengthFigure(lengthCounts: ReadonlyMap<number, number>): FigureSpec {
  const lengths = [...lengthCounts.keys()].sort((a, b) => a - b);
  return {
    data: [{ type: 'bar', x: lengths.map(String), y: lengths.map((l) => lengthCounts.get(l) ?? 0), name: 'labels' }],
    layout: { title: { text: 'Label length distribution' }, xaxis: { title: { text: 'label length (characters)' }, type: 'category' }, yaxis: { title: { text: 'labels' } } },
  };
}

/** Bar chart of how often each character occurs over all labels. */
export function characterFrequencyFigure(charCounts: ReadonlyMap<string, number>): FigureSpec {
  const chars = [...charCounts.keys()];
  return {
    data: [{ type: 'bar', x: chars, y: chars.map((c) => charCounts.get(c) ?? 0), name: 'occurrences' }],
    layout: { title: { text: 'Character frequencies' }, xaxis: { title: { text: 'character' }, type: 'category' }, yaxis: { title: { text: 'occurrences' } } },
  };
}

/** Line chart of the mean ink (darkness) across the image width, from left (0) to right (1). */
export function inkProfileFigure(profile: readonly number[]): FigureSpec {
  const n = profile.length;
  return {
    data: [{ type: 'scatter', mode: 'lines', x: profile.map((_, i) => (i + 0.5) / n), y: [...profile], fill: 'tozeroy', name: 'mean ink' }],
    layout: {
      title: { text: 'Where the ink sits across the width' },
      xaxis: { title: { text: 'relative horizontal position' }, range: [0, 1] },
      yaxis: { title: { text: 'mean ink (darkness against the background, 0-1)' } },
    },
  };
}
