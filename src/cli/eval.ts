/** `glyphlab eval`: evaluate a run's model on any folder in the data layout, or on one split of it. */
import { resolve } from 'node:path';
import { ConfigError } from '../errors';
import { createBatchSource } from '../data/equations/batches';
import { type LabeledImage, loadLabeledImages } from '../data/equations/load';
import { loadEquationSplits, spreadSubset } from '../data/equations/split';
import { compareDecodedTexts } from '../decode/grammar';
import { buildEvalReport } from '../runs/eval-report';
import { loadRunModel } from '../runs/run-model';
import { recordedData } from '../runs/spec/index';
import { predictSequences, type SequenceDecoder } from '../training/sequence';
import { SPLIT_NAMES, type SplitName } from '../types';
import { announceBackend } from './backend';
import {
  choiceOption,
  type CommandGroup,
  DB_OPTION,
  DECODER_OPTION,
  flagOption,
  jsonOption,
  limitOption,
  numberOption,
  requireOption,
  runOption,
  stringOption,
} from './command';
import { createProgressBar } from './progress';
import { percent } from '../util/format';

async function evaluationSamples(dataDir: string, split: SplitName | undefined, seed: number): Promise<LabeledImage[]> {
  if (split === undefined) return (await loadLabeledImages(dataDir, { check: 'header' })).samples;
  return (await loadEquationSplits(dataDir, seed)).splits[split];
}

export const evalGroup: CommandGroup = {
  name: 'eval',
  summary: "evaluate a run's model on a data folder",
  commands: [
    {
      name: '',
      summary: "evaluate a run's model: exact-match accuracy, CER, accuracy by length, confusions",
      options: {
        run: runOption('the run whose model is evaluated (required)'),
        data: { type: 'string', valueName: 'DIR', description: 'data folder (required); evaluated whole unless --split' },
        split: { type: 'string', valueName: SPLIT_NAMES.join('|'), description: "only this split (the folder's split.json, else the run's split seed)" },
        decoder: DECODER_OPTION,
        'compare-decoders': { type: 'boolean', description: 'also decode with the grammar and count the readings it fixes and breaks' },
        limit: limitOption('evaluate at most N images'),
        checkpoint: { type: 'string', valueName: 'model|best|last', description: 'which saved weights (default the final model)' },
        db: DB_OPTION,
        json: jsonOption('the report'),
      },
      async run(args, ctx) {
        const runId = requireOption(args, 'run', '--run 20261122-101500-ab12cd (or its last part, ab12cd)');
        const dataDir = resolve(requireOption(args, 'data', '--data data/equations'));
        const split = choiceOption<SplitName>(args, 'split', SPLIT_NAMES);
        const decoder = choiceOption<SequenceDecoder>(args, 'decoder', ['greedy', 'grammar']);
        const checkpoint = choiceOption(args, 'checkpoint', ['model', 'best', 'last'] as const);
        const limit = numberOption(args, 'limit', { min: 1, integer: true });
        await announceBackend(ctx);
        const loaded = await loadRunModel(runId, { dbPath: stringOption(args, 'db'), checkpoint });
        const seed = recordedData(loaded.config).seed ?? 0;
        let samples = await evaluationSamples(dataDir, split, seed);
        samples = spreadSubset(samples, limit);
        if (samples.length === 0) throw new ConfigError(`no images to evaluate in ${dataDir}${split ? ` (split ${split})` : ''}`);
        const [height, width, channels] = loaded.inputShape;
        const source = createBatchSource(samples, { height, width, channels, batchSize: 64, shuffle: false });
        const bar = createProgressBar('eval', samples.length);
        const predictions = await predictSequences(loaded.model, source, { decoder, withGrammar: flagOption(args, 'compare-decoders'), onBatch: (done) => bar.update(done) });
        bar.finish();
        await source.close();
        loaded.model.dispose();
        const report = buildEvalReport(predictions, split ?? 'all');
        const comparison = predictions.grammar ? compareDecodedTexts(predictions.truths, decoder === 'grammar' ? predictions.grammar : predictions.predictions, predictions.grammar) : undefined;
        if (flagOption(args, 'json')) {
          ctx.printJson({ runId: loaded.runId, data: dataDir, decoder: decoder ?? 'greedy', loss: predictions.loss, ...report, decoderComparison: comparison ?? null });
          return;
        }
        ctx.print(`run ${loaded.runId} on ${dataDir}${split ? ` (${split})` : ''}: ${report.samples} images, decoder ${decoder ?? 'greedy'}`);
        ctx.print(`exact-match accuracy ${percent(report.accuracy)}, CER ${percent(report.characterErrorRate)}, CTC loss ${predictions.loss.toFixed(4)}`);
        ctx.print('accuracy by label length:');
        for (const row of report.byLength) ctx.print(`  ${String(row.length).padStart(2)}: ${percent(row.accuracy)} (${row.correct}/${row.samples})`);
        if (report.confusions.length > 0) {
          ctx.print('most frequent confusions (truth -> read):');
          for (const c of report.confusions.slice(0, 8)) ctx.print(`  ${c.truth || '(none)'} -> ${c.predicted || '(none)'}: ${c.count}`);
        }
        if (comparison) {
          ctx.print(`grammar decoder: ${percent(comparison.grammarAccuracy)} vs greedy ${percent(comparison.greedyAccuracy)}; fixed ${comparison.fixed}, broke ${comparison.broken}, both wrong ${comparison.bothWrong}`);
        }
      },
    },
  ],
};
