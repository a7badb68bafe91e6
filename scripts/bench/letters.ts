/**
 * The letters pipeline where the real A-Z handwritten letters CSV
 * is absent: synthesises capitals A-Z from the handwriting fonts into a CSV in the real file's
 * format, reads it back through the letters loader, and trains the CNN through
 * `runCharTraining` (recorded in experiment 'bench-letters'). Whole fonts are held out for the
 * test set, so the figure says how the classifier does on a hand it never saw. Font letters are
 * not handwriting: treat the figure as a check of the pipeline, not of the real task.
 *
 *   npm run bench:letters -- [--per-letter 40] [--test-fonts patrick-hand,dawning-of-a-new-day]
 *     [--epochs 10] [--max-minutes 15] [--filters 32,64] [--kernel 3] [--convs-per-block 1]
 *     [--dense 128] [--backend wasm|cpu] [--csv FILE]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBackend, initBackend, type BackendName } from '../../src/backend';
import { splitCharDataset, subsetCharDataset } from '../../src/data/characters/dataset';
import { SYNTH_FONTS } from '../../src/data/fonts';
import { loadLettersCsv } from '../../src/data/characters/letters-csv';
import { synthesizeLettersCsv } from '../../src/data/characters/synth-letters';
import { loadQuantizedModel } from '../../src/models/quantize';
import { Callback, type Logs, TimeBudget } from '../../src/training/callbacks';
import { runCharTraining } from '../../src/runs/char-run';
import { evaluateClassifier } from '../../src/training/classification';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

const numbers = (text: string): number[] => text.split(',').filter(Boolean).map(Number);

class PrintEpochs extends Callback {
  override async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    console.log(`epoch ${epoch + 1}: loss ${logs['loss']?.toFixed(4)} val_accuracy ${logs['val_accuracy']?.toFixed(4)} lr ${logs['lr']} (${logs['epoch_time_s']?.toFixed(1)} s)`);
  }
}

async function main(): Promise<void> {
  const info = await initBackend({ backend: argument('backend', 'wasm') as BackendName });
  console.log(`backend: ${describeBackend(info)}`);
  const testFonts = argument('test-fonts', 'patrick-hand,dawning-of-a-new-day').split(',');
  const fonts = [...SYNTH_FONTS.handwriting] as string[];
  const unknown = testFonts.filter((f) => !fonts.includes(f));
  if (unknown.length > 0) throw new Error(`--test-fonts ${unknown.join(', ')}: not handwriting fonts; choose from ${fonts.join(', ')}`);
  const tmp = mkdtempSync(join(tmpdir(), 'glyphlab-bench-letters-'));
  try {
    const csv = argument('csv', join(tmp, 'letters.csv'));
    let started = Date.now();
    const made = synthesizeLettersCsv({ outFile: csv, fonts, perLetter: Number(argument('per-letter', '40')) });
    console.log(`synthesised ${made.rows} letters from ${fonts.length} handwriting fonts into ${csv} in ${((Date.now() - started) / 1000).toFixed(0)} s`);

    const letters = await loadLettersCsv(csv);
    const held = made.fonts.map((f, i) => (testFonts.includes(f) ? i : -1)).filter((i) => i >= 0);
    const seen = made.fonts.map((f, i) => (testFonts.includes(f) ? -1 : i)).filter((i) => i >= 0);
    const trainVal = splitCharDataset(subsetCharDataset(letters, seen), { ratios: [0.9, 0.1, 0], seed: 1 });
    const splits = { train: trainVal.train, val: trainVal.val, test: subsetCharDataset(letters, held) };
    console.log(`train ${splits.train.labels.length} and val ${splits.val.labels.length} from ${fonts.length - testFonts.length} fonts; test ${splits.test.labels.length} from the unseen fonts ${testFonts.join(', ')}`);

    started = Date.now();
    const run = await runCharTraining({
      splits,
      dataName: 'synthetic-letters',
      model: 'cnn',
      lenet: { convFilters: numbers(argument('filters', '32,64')), kernelSize: Number(argument('kernel', '3')), convsPerBlock: Number(argument('convs-per-block', '1')), denseUnits: numbers(argument('dense', '128')) },
      epochs: Number(argument('epochs', '10')),
      augment: true,
      experiment: 'bench-letters',
      source: 'npm run bench:letters',
      tags: ['bench'],
      callbacks: [new PrintEpochs(), new TimeBudget(Number(argument('max-minutes', '15')))],
    });
    const seconds = (Date.now() - started) / 1000;
    const model = await loadQuantizedModel(join(run.runDir, 'model'));
    const evaluation = evaluateClassifier(model, splits.test);
    model.dispose();
    console.log(`run ${run.runId}: ${run.status}, best epoch ${(run.best?.epoch ?? -1) + 1} (val_accuracy ${run.best?.value.toFixed(4)}), ${seconds.toFixed(0)} s`);
    console.log(`test accuracy on unseen fonts ${(evaluation.accuracy * 100).toFixed(2)}% (${evaluation.misclassified.length} of ${splits.test.labels.length} wrong), weighted F1 ${evaluation.weightedF1.toFixed(4)}`);
    const worst = [...evaluation.perClass].sort((a, b) => a.accuracy - b.accuracy).slice(0, 5);
    console.log(`worst letters: ${worst.map((c) => `${c.name} ${(c.accuracy * 100).toFixed(0)}%`).join(', ')}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
