/**
 * How much memory one training step of a spec needs at the least, worked out before anything is
 * built: a model too large for the machine is refused with the sizes, up front, instead of
 * growing for minutes towards an out-of-memory failure. The figure is a lower bound (the
 * activations a step keeps for its backward pass, and one gradient of the largest), so a
 * refusal is certain; a spec under it may still not fit, and then the backend's own guard
 * (`backend/wasm-heap-guard.ts`) names the tensor that did not.
 */
import { ConfigError } from '../../errors';
import { crnnFeatureSize, type CrnnConfig } from '../../models/crnn';
import { VGG19_BLOCKS, type Vgg19CrnnConfig } from '../../models/vgg19-crnn';
import { builderConfig, type EquationRunSpec } from './options';

/** Bytes of a float32. */
const FLOAT = 4;
/** The wasm backend's heap: 4 GiB, the most a 32-bit WebAssembly memory addresses; every replica has its own. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** Floats a conv stack keeps for its backward pass: per block the convolution's and the normalisation's outputs, and the pooled output; returns them with the largest. */
function convStackFloats(batch: number, height: number, width: number, blocks: { filters: number; convs: number; pool: [number, number] | null }[]): { kept: number; largest: number; height: number; width: number } {
  let kept = 0;
  let largest = 0;
  let h = height;
  let w = width;
  for (const block of blocks) {
    const map = batch * h * w * block.filters;
    kept += 2 * block.convs * map;
    largest = Math.max(largest, map);
    if (block.pool) {
      h = Math.floor(h / block.pool[0]);
      w = Math.floor(w / block.pool[1]);
      kept += batch * h * w * block.filters;
    }
  }
  return { kept, largest, height: h, width: w };
}

/** Floats the recurrent layers keep: each direction's gates and states at every time step. */
function recurrentFloats(batch: number, steps: number, head: Pick<CrnnConfig, 'rnn' | 'rnnUnits' | 'rnnLayers'>): number {
  const gates = head.rnn === 'lstm' ? 4 : 3;
  return batch * steps * head.rnnUnits * (gates + 2) * 2 * head.rnnLayers;
}

function crnnFloats(batch: number, config: CrnnConfig): number {
  const blocks = config.convFilters.map((filters, i) => ({ filters, convs: 1, pool: i === 0 && config.stridedStem ? null : (config.pools[i] ?? null) }));
  // A strided stem convolves at the pooled size.
  const [strideHeight, strideWidth] = (config.stridedStem ? config.pools[0] : null) ?? [1, 1];
  const stack = convStackFloats(batch, Math.ceil(config.inputHeight / strideHeight), Math.ceil(config.inputWidth / strideWidth), blocks);
  const [, steps] = crnnFeatureSize(config);
  return batch * config.inputHeight * config.inputWidth * config.channels + stack.kept + stack.largest + recurrentFloats(batch, steps, config);
}

function vgg19Floats(batch: number, config: Vgg19CrnnConfig): number {
  const blocks = VGG19_BLOCKS.map((block, i) => ({ filters: block.filters / config.filterDivisor, convs: block.convs, pool: config.pools[i] ?? null }));
  const stack = convStackFloats(batch, config.inputHeight, config.inputWidth, blocks);
  return batch * config.inputHeight * config.inputWidth * 3 + stack.kept + stack.largest + recurrentFloats(batch, stack.width, config);
}

/**
 * The least bytes one replica's share of a training step needs (see the file comment).
 *
 * @example
 * stepBytesAtLeast(resolveEquationRunSpec({ dataDir: 'd', crnn: { inputWidth: 100_000 } })); // tens of GB
 */
export function stepBytesAtLeast(spec: EquationRunSpec): number {
  const batch = Math.ceil(spec.training.batchSize / spec.compute.replicas);
  const floats = spec.crnn ? crnnFloats(batch, spec.crnn) : spec.vgg19 ? vgg19Floats(batch, spec.vgg19.config) : 0;
  return floats * FLOAT;
}

const gigabytes = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(1)} GB`;

/**
 * Refuses a spec whose step cannot fit: on the wasm backend in one replica's 4 GiB heap, on
 * another backend in `memoryBytes` (the machine's memory).
 */
export function checkStepFits(spec: EquationRunSpec, machine: { backend: string | undefined; memoryBytes: number }): void {
  const need = stepBytesAtLeast(spec);
  const limit = machine.backend === 'wasm' ? WASM_HEAP_BYTES : machine.memoryBytes;
  if (need <= limit) return;
  const where = machine.backend === 'wasm' ? "a replica's 4 GB wasm heap" : `this machine's ${gigabytes(limit)} of memory`;
  const head = builderConfig(spec);
  throw new ConfigError(
    `a training step of this model needs at least ${gigabytes(need)} per replica (input ${head?.inputHeight}x${head?.inputWidth}, ` +
      `${Math.ceil(spec.training.batchSize / spec.compute.replicas)} images per replica), more than ${where}: ` +
      'use a smaller input (--input-height, --input-width), a smaller batch (--batch-size) or more replicas (--replicas)',
  );
}
