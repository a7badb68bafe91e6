/**
 * The data of a run that trains on the synthesis stream: the stream's description, recorded in
 * the run's spec, and the fixed sets it is measured on. Validation, test and every held-out style
 * are rendered once, from their own seeds, into a folder (`DIR/val`, `DIR/test`,
 * `DIR/held-out/NAME`, each an ordinary synthesis folder), at the model's input size, so that
 * every run of one description is scored on the same images and their misreads can be looked at;
 * only the training images are rendered on the fly (synth-stream.ts), never the same twice.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DataError } from '../../errors';
import { readRegularFileSync } from '../../image/read-file';
import { sha256 } from '../../util/hash';
import { DEFAULT_FORM_SHARES, type FormShares } from './forms';
import { type LabeledImage, loadLabeledImages } from './load';
import { synthesizeEquations } from './synth';
import { RENDERER_VERSION } from './synth-render';
import { heldOutStyles, resolveStyleSpace, STYLE_PRESETS, stylePreset, type StyleSpace } from './synth-style';

/** What a user asks of the stream (all optional); a `--data synth:SPEC.json` file holds these fields. */
export interface SynthDataOptions {
  /** A preset name (`wide`, `reference`) or a style space's fields over a preset (see synth-style.ts). Defaults to 'wide'. */
  style?: string | Record<string, unknown>;
  /** Relative share of each equation form. Defaults to equal shares. */
  forms?: FormShares;
  /** Seed of the fixed sets (the training stream's seed is the run's). Defaults to 0. */
  seed?: number;
  /** Images per epoch: validation and a checkpoint come between epochs. Defaults to 51,200. */
  epochImages?: number;
  /** Validation images. Defaults to 2,000. */
  val?: number;
  /** Test images. Defaults to 2,000. */
  test?: number;
  /** Images of each held-out style (0: none). Defaults to 500. */
  heldOut?: number;
}

/** The stream as a run records it: complete, JSON. */
export interface SynthDataSpec {
  /** The renderer's version (`RENDERER_VERSION`): the same spec and version, the same pixels. */
  renderer: number;
  style: StyleSpace;
  forms: FormShares;
  seed: number;
  epochImages: number;
  sets: { val: number; test: number; heldOut: number };
  /** The held-out styles scored after the test split (none when `sets.heldOut` is 0). */
  heldOut: { name: string; style: StyleSpace }[];
  /** The size images are rendered at: the model's input. */
  size: { width: number; height: number };
}

/** Defaults of {@link SynthDataOptions}. */
export const SYNTH_DATA_DEFAULTS = { style: 'wide', seed: 0, epochImages: 51_200, val: 2000, test: 2000, heldOut: 500 } as const;

function wholeAtLeast(value: number, name: string, least: number): number {
  if (!Number.isInteger(value) || value < least) throw new ConfigError(`synth ${name} ${JSON.stringify(value)} must be a whole number >= ${least}`);
  return value;
}

/**
 * The complete description of a stream from `options`, for a model whose input is `size`.
 *
 * @example
 * resolveSynthData({ style: 'wide', heldOut: 0 }, { width: 150, height: 32 });
 */
export function resolveSynthData(options: SynthDataOptions, size: { width: number; height: number }): SynthDataSpec {
  const styleOption = options.style ?? SYNTH_DATA_DEFAULTS.style;
  const style = resolveStyleSpace(typeof styleOption === 'string' ? { preset: styleOption } : styleOption);
  const heldOut = wholeAtLeast(options.heldOut ?? SYNTH_DATA_DEFAULTS.heldOut, 'heldOut', 0);
  return {
    renderer: RENDERER_VERSION,
    style,
    forms: { ...(options.forms ?? DEFAULT_FORM_SHARES) },
    seed: wholeAtLeast(options.seed ?? SYNTH_DATA_DEFAULTS.seed, 'seed', 0),
    epochImages: wholeAtLeast(options.epochImages ?? SYNTH_DATA_DEFAULTS.epochImages, 'epochImages', 1),
    sets: { val: wholeAtLeast(options.val ?? SYNTH_DATA_DEFAULTS.val, 'val', 1), test: wholeAtLeast(options.test ?? SYNTH_DATA_DEFAULTS.test, 'test', 0), heldOut },
    heldOut: heldOut > 0 ? heldOutStyles() : [],
    size: { ...size },
  };
}

/** A short hash naming a description's fixed sets: the same description, the same folder. */
export function synthDataId(spec: SynthDataSpec): string {
  const { epochImages: _perEpoch, ...sets } = spec;
  return `${spec.style.preset}-${sha256(JSON.stringify(sets)).slice(0, 10)}`;
}

/**
 * Reads a `--data synth:SPEC.json` file: a JSON object of {@link SynthDataOptions}. A file that
 * is missing, not JSON or not an object is a DataError naming it.
 */
export function readSynthDataFile(path: string): SynthDataOptions {
  if (!existsSync(path)) throw new DataError(`synthesis spec ${path} does not exist (expected --data synth, synth:PRESET or synth:FILE.json)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readRegularFileSync(path, { maxBytes: 4 * 2 ** 20, what: 'synthesis spec' }).toString('utf8'));
  } catch (error) {
    throw new DataError(`synthesis spec ${path} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new DataError(`synthesis spec ${path} must be a JSON object with fields style, forms, seed, epochImages, val, test, heldOut`);
  const known = ['style', 'forms', 'seed', 'epochImages', 'val', 'test', 'heldOut'];
  const unknown = Object.keys(parsed).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw new DataError(`synthesis spec ${path}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; expected ${known.join(', ')}`);
  return parsed as SynthDataOptions;
}

/** The fixed sets of a stream, loaded. */
export interface SynthSets {
  val: LabeledImage[];
  test: LabeledImage[];
  heldOut: { name: string; samples: LabeledImage[] }[];
  /** Identifies the training stream and the sets: what a resume checks. */
  fingerprint: string;
}

/**
 * Renders the fixed sets of `spec` into `dir` (each once: a later call finds them and checks
 * they were made with the same options) and loads them.
 */
export async function ensureSynthSets(dir: string, spec: SynthDataSpec, log: (message: string) => void = () => {}): Promise<SynthSets> {
  const { width, height } = spec.size;
  const make = async (sub: string, count: number, seed: string, style: StyleSpace): Promise<LabeledImage[]> => {
    if (count === 0) return [];
    const outDir = join(dir, sub);
    const fresh = !existsSync(join(outDir, 'labels.csv'));
    if (fresh) log(`rendering ${count} ${sub} images into ${outDir}`);
    await synthesizeEquations({ outDir, count, seed, style, forms: spec.forms, width, height });
    return (await loadLabeledImages(outDir, { check: 'header' })).samples;
  };
  const val = await make('val', spec.sets.val, `${spec.seed}:val`, spec.style);
  const test = await make('test', spec.sets.test, `${spec.seed}:test`, spec.style);
  const heldOut = [];
  for (const held of spec.heldOut) heldOut.push({ name: held.name, samples: await make(join('held-out', held.name), spec.sets.heldOut, `${spec.seed}:held-out:${held.name}`, held.style) });
  return { val, test, heldOut, fingerprint: sha256(JSON.stringify(spec)) };
}

/**
 * The stream a `--data` value asks for: `synth` (the wide preset), `synth:PRESET` or
 * `synth:FILE.json` (a {@link SynthDataOptions} file); undefined for anything else (a folder:
 * write `./synth` for a folder of that name).
 *
 * @example
 * parseSynthDataArg('synth:reference'); // { style: 'reference' }
 */
export function parseSynthDataArg(value: string): SynthDataOptions | undefined {
  if (value === 'synth') return {};
  if (!value.startsWith('synth:')) return undefined;
  const rest = value.slice('synth:'.length);
  if (rest === '') throw new ConfigError('--data synth: needs a preset or a spec file after the colon (synth:wide, synth:reference, synth:FILE.json), or plain --data synth');
  return /\.json$/i.test(rest) || rest.includes('/') ? readSynthDataFile(rest) : { style: rest };
}

/**
 * The style space a `--style` value names: a preset (`wide`, `reference`), `held-out:NAME` (one
 * of the held-out styles: fonts, noise, background), or a JSON file of a space's fields over a
 * preset (`resolveStyleSpace`). Anything else is a ConfigError listing the forms.
 *
 * @example
 * styleFromArg('held-out:fonts').preset; // 'held-out-fonts'
 */
export function styleFromArg(value: string): StyleSpace {
  if ((STYLE_PRESETS as readonly string[]).includes(value)) return stylePreset(value);
  if (value.startsWith('held-out:')) {
    const name = value.slice('held-out:'.length);
    const held = heldOutStyles().find((h) => h.name === name);
    if (!held) throw new ConfigError(`--style ${value}: no held-out style ${JSON.stringify(name)}; expected held-out:${heldOutStyles().map((h) => h.name).join(', held-out:')}`);
    return held.style;
  }
  if (/\.json$/i.test(value)) {
    if (!existsSync(value)) throw new DataError(`style file ${value} does not exist`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readRegularFileSync(value, { maxBytes: 4 * 2 ** 20, what: 'style file' }).toString('utf8'));
    } catch (error) {
      throw new DataError(`style file ${value} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return resolveStyleSpace(parsed as Record<string, unknown>);
  }
  throw new ConfigError(`--style ${JSON.stringify(value)} is not valid: expected a preset (${STYLE_PRESETS.join(', ')}), held-out:NAME or a FILE.json of style dimensions`);
}
