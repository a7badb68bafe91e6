/**
 * Trains the LeNet-style CNN on the real MNIST digits of the `mnist` package (10,000 images,
 * split 8:1:1 by class with a fixed seed) through the shared training loop, then prints the test
 * accuracy, weighted F1, wall time, and the size and accuracy of the uint8-quantised model. The
 * issue's target is at least 99.0% test accuracy (seeds.md section 5).
 *
 *   npm run bench:digits -- [--backend wasm|cpu] [--epochs 15] [--filters 32,64] [--dense 128]
 *                           [--kernel 5] [--convs-per-block 1] [--batch-norm] [--patience 5]
 *                           [--se] [--no-augment] [--batch 64] [--lr 0.002] [--max-minutes 10]
 *                           [--per-class N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackend, initBackend, type BackendName } from '../../src/backend';
import { splitCharDataset } from '../../src/data/char-dataset';
import { loadMnistDigits } from '../../src/data/mnist';
import { buildLenet } from '../../src/models/lenet';
import { loadQuantizedModel, saveQuantizedModel } from '../../src/models/quantize';
import { Callback, type Logs } from '../../src/training/callbacks';
import { charTrainData, classificationEvaluator, classificationLoss, evaluateClassifier } from '../../src/training/classification';
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
      `epoch ${epoch + 1}: loss ${logs['loss']?.toFixed(4)} val_loss ${logs['val_loss']?.toFixed(4)} val_accuracy ${logs['val_accuracy']?.toFixed(4)} lr ${logs['lr']} (${logs['epoch_time_s']?.toFixed(1)} s, ${elapsed.toFixed(0)} s total)`,
    );
    if (Date.now() - this.started > this.budgetMs) {
      console.log('time budget spent: stopping');
      this.stopTraining = true;
    }
  }
}

async function main(): Promise<void> {
  const backend = argument('backend', 'wasm') as BackendName;
  const epochs = Number(argument('epochs', '15'));
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
  const info = await initBackend({ backend });
  console.log(`backend: ${describeBackend(info)}`);

  const digits = loadMnistDigits({ perClass });
  const { train: trainSet, val, test } = splitCharDataset(digits, { seed: 1 });
  console.log(`data: ${digits.labels.length} digits -> train ${trainSet.labels.length}, val ${val.labels.length}, test ${test.labels.length}`);
  const options = { convFilters: filters, kernelSize, convsPerBlock, batchNorm, denseUnits: dense, squeezeExcitation, dropout: 0.5, l2: 0.0005 };
  const model = buildLenet(options);
  console.log(`model: LeNet ${JSON.stringify(options)}, ${model.countParams()} parameters; augment ${augment}; batch ${batchSize}; lr ${learningRate}`);

  const started = Date.now();
  const result = await train(model, charTrainData(trainSet, { batchSize, seed: 1, augment: augment ? { elasticProbability: 0.3 } : false }), {
    loss: classificationLoss({ labelSmoothing: 0.05 }),
    evaluate: classificationEvaluator(val),
    test: classificationEvaluator(test, { prefix: 'test_' }),
    epochs,
    learningRate,
    clipNorm: 5,
    reduceLrOnPlateau: { factor: 0.5, patience: 2 },
    earlyStopping: { patience },
    handleSignals: false,
    callbacks: [new EpochReport(started, budgetMs)],
  });
  const trainSeconds = (Date.now() - started) / 1000;
  const evaluation = evaluateClassifier(model, test);
  console.log(`best epoch ${(result.best?.epoch ?? -1) + 1} (val_accuracy ${result.best?.value.toFixed(4)}), ${result.history.length} epochs in ${trainSeconds.toFixed(0)} s`);
  console.log(`test accuracy ${(evaluation.accuracy * 100).toFixed(2)}% (${evaluation.misclassified.length} of ${test.labels.length} wrong), weighted F1 ${evaluation.weightedF1.toFixed(4)}`);

  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-bench-digits-'));
  try {
    const saved = await saveQuantizedModel(model, dir, { dtype: 'uint8' });
    const quantized = evaluateClassifier(await loadQuantizedModel(dir), test);
    console.log(
      `uint8 model: weights ${saved.weightBytes} bytes (float32 ${saved.floatWeightBytes}, ${(saved.floatWeightBytes / saved.weightBytes).toFixed(2)}x smaller), test accuracy ${(quantized.accuracy * 100).toFixed(2)}% (change ${((quantized.accuracy - evaluation.accuracy) * 100).toFixed(2)} points)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
