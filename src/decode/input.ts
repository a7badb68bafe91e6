/**
 * The per-step class scores decoders read: a `tf.Tensor3D` or nested arrays, both
 * `[batch, time, classes]`, flattened once into one typed array.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError } from '../errors';

/** Recogniser output, `[batch, time, classes]`: probabilities or logits. */
export type CtcOutput = tf.Tensor3D | readonly (readonly (readonly number[])[])[];

/** Flattened recogniser output plus the options every decoder resolves the same way. */
export interface DecoderInput {
  data: ArrayLike<number>;
  batch: number;
  time: number;
  classes: number;
  blank: number;
  inputLengths: number[];
}

/** Reads `input` and resolves `blank` (default `classes - 1`) and `inputLengths` (default `time`). */
export function readDecoderInput(
  input: CtcOutput,
  options: { blank?: number; inputLengths?: readonly number[] },
): DecoderInput {
  let data: ArrayLike<number>;
  let batch: number;
  let time: number;
  let classes: number;
  if (input instanceof tf.Tensor) {
    if (input.rank !== 3) {
      throw new DataError(`decoder input must be rank 3 [batch, time, classes]; got shape [${input.shape.join(', ')}]`);
    }
    [batch, time, classes] = input.shape;
    data = input.dataSync();
  } else {
    batch = input.length;
    time = input[0]?.length ?? 0;
    classes = input[0]?.[0]?.length ?? 0;
    const flat = new Float64Array(batch * time * classes);
    for (let b = 0; b < batch; b++) {
      const steps = input[b] as readonly (readonly number[])[];
      if (steps.length !== time) {
        throw new DataError(`decoder input sample ${b} has ${steps.length} time steps; sample 0 has ${time}`);
      }
      for (let t = 0; t < time; t++) {
        const row = steps[t] as readonly number[];
        if (row.length !== classes) {
          throw new DataError(`decoder input sample ${b} step ${t} has ${row.length} classes; expected ${classes}`);
        }
        flat.set(row, (b * time + t) * classes);
      }
    }
    data = flat;
  }
  const blank = options.blank ?? classes - 1;
  if (!Number.isInteger(blank) || blank < 0 || blank >= classes) {
    throw new ConfigError(`decoder blank ${blank} is not a class index; accepted are integers 0..${classes - 1}`);
  }
  const inputLengths = options.inputLengths ? [...options.inputLengths] : new Array<number>(batch).fill(time);
  if (inputLengths.length !== batch) {
    throw new ConfigError(`decoder inputLengths has ${inputLengths.length} entries for a batch of ${batch}`);
  }
  inputLengths.forEach((length, b) => {
    if (!Number.isInteger(length) || length < 0 || length > time) {
      throw new ConfigError(`decoder inputLengths[${b}] is ${length}; accepted are integers 0..${time}`);
    }
  });
  return { data, batch, time, classes, blank, inputLengths };
}
