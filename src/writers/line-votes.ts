/**
 * Per-line writer predictions, as the reference implementation votes: each line's patches are
 * classified and their probabilities averaged into one vote, the writer with the largest mean
 * probability. `evaluateWriterLines` sums these into accuracies; a notebook also wants the
 * confusion matrix over writers and each writer's accuracy, which need the single votes.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '../errors';
import { confusionMatrix, perClassMetrics } from '../metrics/classification';
import { patchesToTensor } from './model';
import { samplePatches, type WriterLineImage, type WriterPatchOptions } from './patches';

/** The model's vote on one line. */
export interface LinePrediction {
  lineId: string;
  writerId: string;
  /** Index of the true writer. */
  truth: number;
  /** Index of the writer with the largest mean patch probability. */
  predicted: number;
  /** Mean probability of each writer over the line's patches. */
  vote: Float64Array;
  /** Patches classified. */
  patches: number;
  /** Patches whose own top class is the true writer. */
  patchHits: number;
  /** Sum over patches of the cross-entropy of the true writer. */
  lossSum: number;
}

/**
 * Classifies `evalPatchesPerLine` patches of every line (seeded by the line id, so repeated
 * calls see the same patches) and averages their probabilities into the line's vote. A line by
 * a writer missing from `writerIndex` is a ConfigError naming the line.
 */
export function predictWriterLines(
  model: tf.LayersModel,
  lines: readonly WriterLineImage[],
  writerIndex: ReadonlyMap<string, number>,
  options: WriterPatchOptions & { seed?: number | string } = {},
): LinePrediction[] {
  const size = options.patchSize ?? 113;
  return lines.map((line) => {
    const truth = writerIndex.get(line.writerId);
    if (truth === undefined) throw new ConfigError(`line ${line.lineId} is by writer ${line.writerId}, whom the model was not trained on`);
    const sampled = samplePatches(line.image, {
      size,
      maxFraction: options.maxFraction,
      maxPatches: options.evalPatchesPerLine ?? 24,
      seed: `eval:${options.seed ?? 0}:${line.lineId}`,
    });
    const probabilities = tf.tidy(() => model.predict(patchesToTensor(sampled.patches, size)) as tf.Tensor2D);
    const values = probabilities.dataSync();
    const [n, k] = probabilities.shape;
    probabilities.dispose();
    const vote = new Float64Array(k);
    let patchHits = 0;
    let lossSum = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let j = 0; j < k; j++) {
        const p = values[i * k + j] as number;
        vote[j] = (vote[j] as number) + p / n;
        if (p > (values[i * k + best] as number)) best = j;
      }
      if (best === truth) patchHits++;
      lossSum -= Math.log(Math.max(values[i * k + truth] as number, 1e-7));
    }
    let predicted = 0;
    for (let j = 1; j < k; j++) if ((vote[j] as number) > (vote[predicted] as number)) predicted = j;
    return { lineId: line.lineId, writerId: line.writerId, truth, predicted, vote, patches: n, patchHits, lossSum };
  });
}

/** One writer's share of lines attributed to them. */
export interface WriterAccuracy {
  writerId: string;
  lines: number;
  correct: number;
  accuracy: number;
}

/** A confusion matrix over writers (rows: true writer, columns: predicted) and per-writer accuracy. */
export interface WriterConfusion {
  writers: string[];
  matrix: number[][];
  perWriter: WriterAccuracy[];
}

/**
 * Counts line votes into a writers x writers matrix. `writers` names the indices used in the
 * predictions (the model's writer order); an index outside it is a ConfigError.
 */
export function writerConfusion(predictions: readonly LinePrediction[], writers: readonly string[]): WriterConfusion {
  for (const p of predictions) {
    if (!(p.truth >= 0 && p.truth < writers.length && p.predicted >= 0 && p.predicted < writers.length)) {
      throw new ConfigError(`line ${p.lineId}: writer indices ${p.truth} -> ${p.predicted} are outside the ${writers.length} writers given`);
    }
  }
  const matrix = confusionMatrix(
    predictions.map((p) => p.truth),
    predictions.map((p) => p.predicted),
    writers.length,
  );
  const perWriter = perClassMetrics(matrix, writers).map((m) => ({ writerId: m.name, lines: m.support, correct: m.correct, accuracy: m.support ? m.accuracy : Number.NaN }));
  return { writers: [...writers], matrix, perWriter };
}
