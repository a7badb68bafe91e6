/**
 * Trains the LeNet-style CNN on the real MNIST digits of the `mnist` package (10,000 images,
 * split 8:1:1 by class with a fixed seed) through the shared training loop, then prints the test
 * accuracy, weighted F1, wall time, and the size and accuracy of the uint8-quantised model. The
 * target is at least 99.0% test accuracy.
 *
 *   npm run bench:digits -- [--backend wasm|cpu] [--epochs 15] [--filters 32,64] [--dense 128]
 *                           [--kernel 5] [--convs-per-block 1] [--batch-norm] [--patience 5]
 *                           [--se] [--no-augment] [--batch 64] [--lr 0.002] [--max-minutes 10]
 *                           [--per-class N] [--seed 1] [--save DIR]
 *
 * Model selection trains on the train split, watches validation (ReduceLROnPlateau, early
 * stopping, best epoch restored) and reports the test split once at the end.
 *
 * `--final --lr-schedule 0.002x6,0.001x2,...` trains the final model on train + validation
 * for exactly the schedule's epochs at its rates, with no validation to look at: the schedule is
 * the one a model-selection run used up to its best epoch (its per-epoch `lr` lines). The test
 * split is the same 1,001 digits, still unseen.
 *
 * `--ensemble DIR,DIR,...` trains nothing: it loads models saved with `--save` and reports each
 * one's test accuracy and that of their averaged softmax. Weight initialisation is not seeded
 * (each process draws its own); `--seed` sets the batch order and augmentation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackend, initBackend, type BackendName } from '../../src/backend';
import { splitCharDataset, type CharDataset } from '../../src/data/characters/dataset';
import { loadMnistDigits } from '../../src/data/characters/mnist';
import { buildLenet } from '../../src/models/lenet';
import { loadModel, saveModel } from '../../src/models/io';
import { loadQuantizedModel, saveQuantizedModel } from '../../src/models/quantize';
import { Callback, type Logs } from '../../src/training/callbacks';
import { charFitOptions } from '../../src/runs/char-run';
import { charTrainData, classificationLoss, evaluateClassifier, evaluateEnsemble } from '../../src/training/classification';
import { formatStepSchedule, parseStepSchedule } from '../../src/training/schedule';
import { train } from '../../src/training/train';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

/** Prints each epoch, and stops training once the time budget is spent. */
class EpochReport extends Callback {
  constructor(private readonly started: number, private readonly budgetMs: number) {
    super();
  }
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const elapsed = (Date.now() - this.started) / 1000;
    console.log(
      `epoch ${epoch + 1}: loss ${logs['loss']?.toFixed(4)}${logs['val_loss'] === undefined ? '' : ` val_loss ${logs['val_loss'].toFixed(4)} val_accuracy ${logs['val_accuracy']?.toFixed(4)}`} lr ${logs['lr']} (${logs['epoch_time_s']?.toFixed(1)} s, ${elapsed.toFixed(0)} s total)`,
    );
    if (Date.now() - this.started > this.budgetMs) {
      console.log('time budget spent: stopping');
      this.stopTraining = true;
    }
  }
}

function percent(accuracy: number): string {
  return `${(accuracy * 100).toFixed(2)}%`;
}

/** Loads the models saved by earlier `--save` runs and reports each and their averaged softmax on the test split. */
async function reportEnsemble(dirs: string[], test: CharDataset): Promise<void> {
  const models = await Promise.all(dirs.map((dir) => loadModel(dir)));
  const { ensemble, members } = evaluateEnsemble(models, test);
  members.forEach((m, i) => console.log(`member ${dirs[i]}: test accuracy ${percent(m.accuracy)} (${m.misclassified.length} of ${test.labels.length} wrong)`));
  console.log(`ensemble of ${models.length} (mean softmax): test accuracy ${percent(ensemble.accuracy)} (${ensemble.misclassified.length} of ${test.labels.length} wrong), weighted F1 ${ensemble.weightedF1.toFixed(4)}`);
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-bench-digits-'));
  try {
    const quantized = [];
    let bytes = 0;
    for (const [i, model] of models.entries()) {
      bytes += (await saveQuantizedModel(model, join(dir, String(i)), { dtype: 'uint8' })).weightBytes;
      quantized.push(await loadQuantizedModel(join(dir, String(i))));
    }
    const q = evaluateEnsemble(quantized, test).ensemble;
    console.log(`uint8 ensemble: weights ${bytes} bytes in all, test accuracy ${percent(q.accuracy)} (change ${((q.accuracy - ensemble.accuracy) * 100).toFixed(2)} points)`);
    quantized.forEach((m) => m.dispose());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  models.forEach((m) => m.dispose());
}

async function main(): Promise<void> {
  const backend = argument('backend', 'wasm') as BackendName;
  const filters = argument('filters', '32,64').split(',').map(Number);
  const kernelSize = Number(argument('kernel', '5'));
  const dense = argument('dense', '128').split(',').filter(Boolean).map(Number);
  const batchSize = Number(argument('batch', '64'));
  const learningRate = Number(argument('lr', '0.002'));
  const budgetMs = Number(argument('max-minutes', '10')) * 60_000;
  const perClass = Number(argument('per-class', 'Infinity'));
  const squeezeExcitation = process.argv.includes('--se');
  const convsPerBlock = Number(argument('convs-per-block', '1'));
  const batchNorm = process.argv.includes('--batch-norm');
  const patience = Number(argument('patience', '5'));
  const augment = !process.argv.includes('--no-augment');
  const seed = Number(argument('seed', '1'));
  const saveDir = argument('save', '');
  const final = process.argv.includes('--final');
  const scheduleText = argument('lr-schedule', '');
  const schedule = scheduleText ? parseStepSchedule(scheduleText) : undefined;
  if (final && !schedule) throw new Error('--final needs --lr-schedule (the rates of a model-selection run up to its best epoch), e.g. 0.002x6,0.001x2');
  const epochs = schedule ? schedule.epochs : Number(argument('epochs', '15'));
  const info = await initBackend({ backend });
  console.log(`backend: ${describeBackend(info)}`);

  const digits = loadMnistDigits({ perClass });
  const { train: trainSet, val, test } = splitCharDataset(digits, { seed: 1 });
  console.log(`data: ${digits.labels.length} digits -> train ${trainSet.labels.length}, val ${val.labels.length}, test ${test.labels.length}`);
  const ensembleDirs = argument('ensemble', '').split(',').filter(Boolean);
  if (ensembleDirs.length > 0) return reportEnsemble(ensembleDirs, test);

  const { fitSet, ...fit } = charFitOptions({ train: trainSet, val, test }, { final, learningRateSchedule: schedule, learningRate, patience });
  const options = { convFilters: filters, kernelSize, convsPerBlock, batchNorm, denseUnits: dense, squeezeExcitation, dropout: 0.5, l2: 0.0005 };
  const model = buildLenet(options);
  console.log(`model: LeNet ${JSON.stringify(options)}, ${model.countParams()} parameters; augment ${augment}; batch ${batchSize}; seed ${seed}`);
  console.log(
    final
      ? `final model: ${fitSet.labels.length} images (train + validation), ${epochs} epochs at ${formatStepSchedule(schedule!)}, no validation`
      : `model selection on ${fitSet.labels.length} images, lr ${schedule ? formatStepSchedule(schedule) : `${learningRate} with ReduceLROnPlateau`}`,
  );

  const started = Date.now();
  const result = await train(model, charTrainData(fitSet, { batchSize, seed, augment: augment ? { elasticProbability: 0.3 } : false }), {
    ...fit,
    loss: classificationLoss({ labelSmoothing: 0.05 }),
    epochs,
    clipNorm: 5,
    callbacks: [new EpochReport(started, budgetMs)],
  });
  const trainSeconds = (Date.now() - started) / 1000;
  const evaluation = evaluateClassifier(model, test);
  if (final) console.log(`${result.history.length} epochs in ${trainSeconds.toFixed(0)} s (last epoch kept)`);
  else console.log(`best epoch ${(result.best?.epoch ?? -1) + 1} (val_accuracy ${result.best?.value.toFixed(4)}), ${result.history.length} epochs in ${trainSeconds.toFixed(0)} s`);
  console.log(`test accuracy ${percent(evaluation.accuracy)} (${evaluation.misclassified.length} of ${test.labels.length} wrong), weighted F1 ${evaluation.weightedF1.toFixed(4)}`);
  if (saveDir) console.log(`saved float32 model to ${await saveModel(model, saveDir, { meta: { seed, final, schedule: schedule ? formatStepSchedule(schedule) : null, options } })}`);

  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-bench-digits-'));
  try {
    const saved = await saveQuantizedModel(model, dir, { dtype: 'uint8' });
    const quantized = evaluateClassifier(await loadQuantizedModel(dir), test);
    console.log(
      `uint8 model: weights ${saved.weightBytes} bytes (float32 ${saved.floatWeightBytes}, ${(saved.floatWeightBytes / saved.weightBytes).toFixed(2)}x smaller), test accuracy ${percent(quantized.accuracy)} (change ${((quantized.accuracy - evaluation.accuracy) * 100).toFixed(2)} points)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
