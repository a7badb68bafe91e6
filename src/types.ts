/**
 * Plain values that several layers share: the names of the parts of a data split (data
 * loaders, runs, the CLI and the dashboard all speak of them), and the plotly figure that data
 * exploration, the charts of `viz/` and the dashboard produce and notebooks display.
 */

/**
 * The three parts of a split, in ratio order. The validation part is `val` everywhere: in split
 * manifests, run params, metric keys (`val_accuracy`) and the API.
 */
export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** A plotly figure: traces and layout, as plotly.js takes them. */
export interface FigureSpec {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}
