/**
 * One candidate of `npm start`'s quick recipe, trained for a fixed wall-clock budget on a folder
 * and scored on its validation split: the screen behind docs/recipes.md steps 8 and 9. Run two
 * candidates one after the other on the same folder and machine, and compare the step count
 * and the validation exact-match they reach in the same minutes. The run is recorded in the
 * experiment store (experiment "screen", tagged with the candidate's name); nothing is read
 * from the test split.
 *
 *   node --import tsx scripts/bench/quick-screen.ts --data DIR [--minutes 12.4] [--val 3000]
 *     [--name NAME] [--crnn '{"rnnLayers": 1}'] [--weight-decay 0.05]
 *
 * `--crnn` is merged over the quick recipe's model options (`EQUATION_RECIPES.quick`, any
 * `CrnnOptions` key); `--weight-decay` replaces its decoupled weight decay. The last line is
 * `screen NAME: S steps, val exact-match A%, final training loss L, run ID`.
 */
import { parseArgs } from 'node:util';
import { initBackend } from '../../src/backend/index';
import type { CrnnOptions } from '../../src/models/crnn';
import { runEquationTraining } from '../../src/runs/equation-run';
import { EQUATION_RECIPES } from '../../src/runs/spec/index';
import { openStore, closeStore } from '../../src/tracker/store';
import { getMetricHistory } from '../../src/tracker/query';

function fail(message: string): never {
  console.error(`quick-screen: ${message}`);
  process.exit(2);
}

function positive(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) fail(`--${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

function crnnOverrides(text: string | undefined): Partial<CrnnOptions> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail(`--crnn must be a JSON object of CRNN options, e.g. '{"rnnLayers": 1}' (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`--crnn must be a JSON object of CRNN options, got ${text}`);
  return value as Partial<CrnnOptions>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      minutes: { type: 'string' },
      val: { type: 'string' },
      name: { type: 'string' },
      crnn: { type: 'string' },
      'weight-decay': { type: 'string' },
    },
  });
  if (!values.data) fail('--data DIR is required (a folder of images and labels.csv, e.g. the data/equations that npm start synthesises)');
  const minutes = positive('minutes', values.minutes, 12.4);
  const val = Math.round(positive('val', values.val, 3000));
  const quick = EQUATION_RECIPES.quick.options;
  const weightDecay = values['weight-decay'] === undefined ? quick.weightDecay : Number(values['weight-decay']);
  if (!Number.isFinite(weightDecay) || weightDecay < 0) fail(`--weight-decay must be a number of at least 0, got ${JSON.stringify(values['weight-decay'])}`);
  const crnn = { ...quick.crnn, ...crnnOverrides(values.crnn) };
  const name = values.name ?? 'quick-recipe';

  await initBackend();
  console.log(`screen ${name}: ${minutes} minutes on ${values.data}, model ${JSON.stringify(crnn)}, weight decay ${weightDecay}`);
  const result = await runEquationTraining({
    dataDir: values.data,
    recipe: 'quick',
    crnn,
    weightDecay,
    minutes,
    // The test split is not scored: a screen chooses on validation only.
    limit: { val, test: 1 },
    imageCheck: 'header',
    experiment: 'screen',
    name,
    tags: ['screen', name],
    log: (message) => console.error(message),
  });
  const store = openStore(undefined, { readonly: true });
  try {
    const batches = getMetricHistory(store, result.runId, ['batch_loss']);
    const steps = batches[batches.length - 1]?.step ?? 0;
    const last = result.history[result.history.length - 1];
    const valAccuracy = last?.['val_accuracy'] ?? Number.NaN;
    const loss = last?.['loss'] ?? Number.NaN;
    const epochs = result.history.map((e) => `${((e['val_accuracy'] ?? Number.NaN) * 100).toFixed(2)}%`).join(', ');
    console.log(`validation after each epoch: ${epochs}`);
    console.log(`screen ${name}: ${steps} steps, val exact-match ${(valAccuracy * 100).toFixed(2)}%, final training loss ${loss.toFixed(3)}, run ${result.runId}`);
  } finally {
    closeStore(store);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
