/**
 * A clear error where the wasm backend runs out of memory.
 *
 * tfjs's wasm backend takes every tensor's memory with `malloc` and does not check the result.
 * When the heap cannot grow any more (WebAssembly's 32-bit heap stops just under 4 GB), `malloc`
 * returns 0, the tensor is written over the start of the heap, and the process dies later
 * somewhere unrelated with `RuntimeError: memory access out of bounds`. Wrapping the backend's
 * `malloc` turns that into an error at the allocation itself, saying what happened and what fits.
 */
import { BackendError } from '../errors';

/** The part of the wasm backend's emscripten module this guard touches. */
interface WasmModule {
  _malloc: (bytes: number) => number;
  asm?: { malloc?: (bytes: number) => number };
  HEAPU8: Uint8Array;
}

const GUARDED = Symbol.for('glyphlab.wasmHeapGuard');

function megabytes(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MB`;
}

/**
 * Makes the wasm backend's allocations fail with a {@link BackendError} instead of returning
 * address 0. Idempotent; a backend without an emscripten module (cpu, tensorflow) is left alone.
 * Returns whether the guard is in place.
 */
export function guardWasmHeap(backend: unknown): boolean {
  const wasm = (backend as { wasm?: WasmModule } | undefined)?.wasm;
  if (!wasm || typeof wasm._malloc !== 'function') return false;
  const current = wasm._malloc as WasmModule['_malloc'] & { [GUARDED]?: true };
  if (current[GUARDED]) return true;
  // emscripten's `_malloc` starts as a stub that replaces itself with `asm.malloc` on its first
  // call, which would drop a wrapper around the stub: wrap the export itself.
  const malloc = wasm.asm?.malloc ?? current;
  const guarded = Object.assign(
    (bytes: number): number => {
      // malloc takes a 32-bit size: 4 GB or more would wrap around to a small allocation.
      const address = bytes >= 2 ** 32 ? 0 : malloc(bytes);
      if (address === 0 && bytes > 0) {
        throw new BackendError(
          `the wasm backend is out of memory: a tensor of ${megabytes(bytes)} does not fit beside the ${megabytes(wasm.HEAPU8.length)} ` +
            'already in use (its heap cannot grow past 4 GB); a smaller --batch-size, input size or model fits, or fewer images ' +
            'evaluated at once',
        );
      }
      return address;
    },
    { [GUARDED]: true as const },
  );
  wasm._malloc = guarded;
  return true;
}
