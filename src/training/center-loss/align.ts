/**
 * Which frames of a batch show which label character: each sample's greedy CTC path aligned
 * with its label, as flat row indices into the `[batch * time]` frames. The objective pulls
 * these frames to their class centers; the held-out statistics measure them.
 */
import { DataError } from '../../errors';
import { alignGreedyPath, framewiseArgmax } from '../../losses/center';
import type { TrainBatch } from '../types';

/** A batch with CTC labels (class indices per sample), like `SequenceBatch`. */
export interface LabeledSequenceBatch extends TrainBatch {
  labels: number[][];
}

/** Per-frame alignment of a batch: flat row indices into `[batch * time]` and their classes. */
export interface BatchAlignment {
  rows: number[];
  classes: number[];
}

/** Aligns every sample of a batch of logits (`[batch, time, classes]` values) with its label. */
export function alignBatch(
  scores: ArrayLike<number>,
  shape: readonly [number, number, number],
  labels: readonly (readonly number[])[],
  options: { blank?: number; frames?: 'all' | 'peak'; includeSubstitutions?: boolean } = {},
): BatchAlignment {
  const [batch, time, classes] = shape;
  if (labels.length !== batch) throw new DataError(`center loss: ${labels.length} labels for a batch of ${batch}`);
  const rows: number[] = [];
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const offset = b * time * classes;
    const path = framewiseArgmax(scores, time, classes, offset);
    const sampleScores = options.frames === 'peak' ? Array.prototype.slice.call(scores, offset, offset + time * classes) : undefined;
    const aligned = alignGreedyPath(path, labels[b] as number[], {
      blank: options.blank ?? classes - 1,
      frames: options.frames,
      includeSubstitutions: options.includeSubstitutions,
      scores: sampleScores as number[] | undefined,
      classes,
    });
    for (const a of aligned) {
      rows.push(b * time + a.frame);
      out.push(a.classIndex);
    }
  }
  return { rows, classes: out };
}
