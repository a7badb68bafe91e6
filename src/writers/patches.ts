/**
 * Random square patches from handwriting line images, as in the reference implementation: the
 * writer CNN sees 113x113 patches, at most 30% of the possible patch positions of each image, so
 * that a line gives many different views of one hand without repeating itself.
 */
import { ConfigError } from '../errors';
import { convertChannels, type RawImage } from '../image/raw-image';
import { createRng, type Rng } from '../util/rng';

/** A line image and who wrote it (synthetic, or an IAM line decoded with `decodeImage`). */
export interface WriterLineImage {
  lineId: string;
  writerId: string;
  image: RawImage;
}

/** Patch sampling for training and evaluation. */
export interface WriterPatchOptions {
  /** Patch side. Defaults to 113. */
  patchSize?: number;
  /** Largest share of a line's possible patches. Defaults to 0.3. */
  maxFraction?: number;
  /** Training patches per line per epoch. Defaults to 32. */
  trainPatchesPerLine?: number;
  /** Patches per line voted over at evaluation. Defaults to 24. */
  evalPatchesPerLine?: number;
}

/** Options of {@link samplePatchPositions} and {@link samplePatches}. */
export interface PatchSamplerOptions {
  /** Patch side in pixels. Defaults to 113 (the reference implementation's). */
  size?: number;
  /** Largest share of the possible patch positions to take from one image. Defaults to 0.3 (the reference implementation's). */
  maxFraction?: number;
  /** A hard cap on patches per image (the 30% of a long line is thousands). Defaults to no cap. */
  maxPatches?: number;
  /** Seed, or a generator to draw from. Defaults to 0. */
  seed?: number | string | Rng;
  /**
   * Images smaller than a patch are padded with white to the patch size (IAM has short lines);
   * false throws instead. Defaults to true.
   */
  pad?: boolean;
}

/** The top-left corner of a patch. */
export interface PatchPosition {
  x: number;
  y: number;
}

function resolve(options: PatchSamplerOptions): { size: number; maxFraction: number; maxPatches: number; rng: Rng; pad: boolean } {
  const size = options.size ?? 113;
  const maxFraction = options.maxFraction ?? 0.3;
  const maxPatches = options.maxPatches ?? Number.POSITIVE_INFINITY;
  if (!Number.isInteger(size) || size < 1) throw new ConfigError(`patch size ${size} must be a positive integer`);
  if (!(maxFraction > 0 && maxFraction <= 1)) throw new ConfigError(`patch maxFraction ${maxFraction} must be in (0, 1]`);
  if (!(maxPatches >= 1)) throw new ConfigError(`maxPatches ${maxPatches} must be at least 1`);
  const seed = options.seed ?? 0;
  const rng = typeof seed === 'object' ? seed : createRng(seed);
  return { size, maxFraction, maxPatches, rng, pad: options.pad ?? true };
}

/** How many patch positions an image has, and how many the sampler takes. */
export function patchCount(width: number, height: number, options: Pick<PatchSamplerOptions, 'size' | 'maxFraction' | 'maxPatches'> = {}): { possible: number; taken: number } {
  const size = options.size ?? 113;
  const possible = Math.max(1, width - size + 1) * Math.max(1, height - size + 1);
  // At least one patch, so that no image is dropped without a word.
  const taken = Math.max(1, Math.min(Math.floor((options.maxFraction ?? 0.3) * possible), options.maxPatches ?? Number.POSITIVE_INFINITY));
  return { possible, taken };
}

/**
 * Distinct random top-left corners of patches in a `width` x `height` image: `floor(maxFraction
 * * possible)` of them (at least one, at most `maxPatches`), in the order drawn. Reproducible
 * from the RNG seed.
 */
export function samplePatchPositions(width: number, height: number, options: PatchSamplerOptions = {}): PatchPosition[] {
  const { size, maxFraction, maxPatches, rng, pad } = resolve(options);
  if (!pad && (width < size || height < size)) {
    throw new ConfigError(`image ${width}x${height} is smaller than a ${size}x${size} patch; pass pad: true or a smaller size`);
  }
  const columns = Math.max(1, width - size + 1);
  const { possible, taken } = patchCount(width, height, { size, maxFraction, maxPatches });
  const chosen = new Set<number>();
  const positions: PatchPosition[] = [];
  if (taken * 2 > possible) {
    // Dense: a partial Fisher-Yates shuffle of all positions.
    const all = Array.from({ length: possible }, (_, i) => i);
    for (let i = 0; i < taken; i++) {
      const j = i + rng.int(possible - i);
      const tmp = all[i] as number;
      all[i] = all[j] as number;
      all[j] = tmp;
      positions.push({ x: (all[i] as number) % columns, y: Math.floor((all[i] as number) / columns) });
    }
    return positions;
  }
  // Sparse: rejection keeps memory small for long lines.
  while (positions.length < taken) {
    const index = rng.int(possible);
    if (chosen.has(index)) continue;
    chosen.add(index);
    positions.push({ x: index % columns, y: Math.floor(index / columns) });
  }
  return positions;
}

/**
 * Cuts a `size` x `size` grayscale patch at (x, y); pixels outside the image are white (255).
 */
export function cropPatch(image: RawImage, position: PatchPosition, size = 113): Uint8Array {
  const gray = convertChannels(image, 1);
  const out = new Uint8Array(size * size).fill(255);
  for (let py = 0; py < size; py++) {
    const y = position.y + py;
    if (y < 0 || y >= gray.height) continue;
    for (let px = 0; px < size; px++) {
      const x = position.x + px;
      if (x < 0 || x >= gray.width) continue;
      out[py * size + px] = gray.data[y * gray.width + x] as number;
    }
  }
  return out;
}

/** Patches of one image with their positions. */
export interface SampledPatches {
  size: number;
  positions: PatchPosition[];
  /** One grayscale `size * size` array per patch. */
  patches: Uint8Array[];
}

/**
 * Samples and cuts random patches from one line image (see {@link samplePatchPositions}).
 *
 * @example
 * const { patches } = samplePatches(lineImage, { seed: 'a01-000u-00', maxPatches: 40 });
 */
export function samplePatches(image: RawImage, options: PatchSamplerOptions = {}): SampledPatches {
  const size = options.size ?? 113;
  const gray = convertChannels(image, 1);
  const positions = samplePatchPositions(gray.width, gray.height, options);
  return { size, positions, patches: positions.map((p) => cropPatch(gray, p, size)) };
}
