/**
 * Samples across a style space, for looking at it: a few images of each font category the space
 * draws from, then a few of each held-out style, each captioned with its label and face. What
 * notebook 01 and `glyphlab data explore synth` show.
 */
import { encodePng } from '../../image/png';
import { createRng } from '../../util/rng';
import { fontCategory } from '../fonts';
import { randomEquationLabel } from './forms';
import { renderEquation } from './synth-render';
import { heldOutStyles, type StyleSpace } from './synth-style';

/** One sample of the grid. */
export interface StyleSample {
  /** The row it belongs to: a font category (`sans`, ...) or `held-out NAME`. */
  group: string;
  label: string;
  face: string;
  dataUri: string;
}

export interface StyleGridOptions {
  /** Samples per group. Defaults to 6. */
  perGroup?: number;
  /** Include the held-out styles. Defaults to true. */
  heldOut?: boolean;
  /** Seed of the samples. Defaults to 0. */
  seed?: number | string;
  /** Image size. Defaults to 300 x 64. */
  width?: number;
  height?: number;
}

/**
 * Renders `perGroup` samples of each font category of `style` (and of each held-out style).
 *
 * @example
 * const samples = styleGrid(stylePreset('wide'), { perGroup: 4 });
 */
export function styleGrid(style: StyleSpace, options: StyleGridOptions = {}): StyleSample[] {
  const perGroup = options.perGroup ?? 6;
  const width = options.width ?? 300;
  const height = options.height ?? 64;
  const groups = new Map<string, StyleSpace>();
  for (const face of style.fonts) {
    const category = fontCategory(face);
    const group = groups.get(category);
    if (group) group.fonts.push(face);
    else groups.set(category, { ...style, fonts: [face] });
  }
  if (options.heldOut ?? true) for (const held of heldOutStyles()) groups.set(`held-out ${held.name}`, held.style);
  const samples: StyleSample[] = [];
  for (const [group, space] of groups) {
    for (let k = 0; k < perGroup; k++) {
      const rng = createRng(`${options.seed ?? 0}:${group}:${k}`);
      const face = rng.pick(space.fonts);
      const label = randomEquationLabel(rng);
      const image = renderEquation(label, rng, { width, height, style: { ...space, fonts: [face] } });
      samples.push({ group, label, face, dataUri: `data:image/png;base64,${encodePng(image).toString('base64')}` });
    }
  }
  return samples;
}
