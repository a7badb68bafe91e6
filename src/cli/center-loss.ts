/**
 * `glyphlab center-loss`: fine-tune a trained CRNN run with CTC alone and with CTC + center loss,
 * and compare both on its test split and a look-alike set, as the reference implementation's
 * center-loss experiment does.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors';
import { synthesizeLookalikeSet } from '../data/equations/lookalike';
import { centerLossVariants, runCenterLossComparison } from '../runs/center-loss-run';
import { databasePath, dataDir } from '../util/paths';
import { centerComparisonTable } from '../viz/center-charts';
import {
  type CommandGroup,
  DB_OPTION,
  experimentOption,
  flagOption,
  jsonOption,
  limitOption,
  numberOption,
  requireOption,
  stringListOption,
  stringOption,
} from './command';
import { textTable } from './table';
import { announceBackend } from './backend';
import { ProgressCallback } from './progress';
import { percent } from '../util/format';

export const centerLossGroup: CommandGroup = {
  name: 'center-loss',
  summary: 'fine-tune a trained CRNN run with and without center loss; compare on its test split and a look-alike set',
  commands: [
    {
      name: '',
      summary: 'CTC alone vs CTC + center loss, both from the same trained run, both recorded',
      options: {
        base: { type: 'string', valueName: 'RUN', description: 'the trained CRNN run to start from (required)' },
        lookalike: { type: 'string', valueName: 'DIR', description: 'look-alike set folder; synthesised there when it has no labels.csv (default data/lookalike)' },
        'lookalike-count': { type: 'string', valueName: 'N', description: 'images of a synthesised look-alike set (default 1000)' },
        data: { type: 'string', valueName: 'DIR', description: "equation data folder (default: the base run's, split as it was)" },
        epochs: { type: 'string', valueName: 'N', description: 'fine-tuning epochs of each arm (default 2)' },
        lambda: { type: 'string', valueName: 'L[,L...]', description: 'center-loss weights, one arm each beside CTC alone (default 0.003)' },
        alpha: { type: 'string', valueName: 'A', description: 'center update rate in [0, 1] (default 0.5)' },
        lr: { type: 'string', valueName: 'LR', description: 'learning rate (default 0.0001)' },
        'batch-size': { type: 'string', valueName: 'N', description: 'batch size (default 32)' },
        limit: limitOption('fine-tune on at most N training images (default all)'),
        minutes: { type: 'string', valueName: 'M', description: 'stop each arm after M minutes of training (default no limit)' },
        experiment: experimentOption('experiment of the runs (default center-loss)'),
        tag: { type: 'string', valueName: 'TAG', description: 'tag the runs (repeatable or comma-separated)', multiple: true },
        db: DB_OPTION,
        json: jsonOption('the comparison'),
      },
      details: 'Make a base run first, e.g. `glyphlab train --data data/equations --epochs 30`, or use the run of `npm run bench:accuracy`.',
      async run(args, ctx) {
        const baseRunId = requireOption(args, 'base', '--base 20261122-074452-cf49ee (a trained CRNN run; glyphlab runs ls)');
        const lambdas = (stringOption(args, 'lambda') ?? '0.003').split(',').map((text) => {
          const value = Number(text);
          if (text.trim() === '' || !Number.isFinite(value) || value <= 0) throw new ConfigError(`--lambda ${JSON.stringify(text)} must be a positive number (the CTC-only arm is always run)`);
          return value;
        });
        const lookalikeDir = resolve(stringOption(args, 'lookalike') ?? join(dataDir(), 'lookalike'));
        await announceBackend(ctx);
        if (!existsSync(join(lookalikeDir, 'labels.csv'))) {
          const count = numberOption(args, 'lookalike-count', { min: 1, integer: true }) ?? 1000;
          const made = synthesizeLookalikeSet({ outDir: lookalikeDir, count });
          ctx.stderr.write(`synthesised ${count} look-alike images into ${lookalikeDir} (${percent(made.lookalikeShare, 1)} look-alike characters)\n`);
        }
        const limit = numberOption(args, 'limit', { min: 1, integer: true });
        const comparison = await runCenterLossComparison({
          baseRunId,
          lookalikeDir,
          dataDir: stringOption(args, 'data'),
          variants: centerLossVariants(lambdas),
          center: { alpha: numberOption(args, 'alpha', { min: 0 }) },
          epochs: numberOption(args, 'epochs', { min: 1, integer: true }),
          maxMinutes: numberOption(args, 'minutes', { min: 0 }),
          learningRate: numberOption(args, 'lr', { min: 1e-12 }),
          batchSize: numberOption(args, 'batch-size', { min: 1, integer: true }),
          limit: limit === undefined ? undefined : { train: limit },
          experiment: stringOption(args, 'experiment'),
          tags: stringListOption(args, 'tag'),
          dbPath: stringOption(args, 'db') ?? databasePath(),
          source: `glyphlab ${process.argv.slice(2).join(' ')}`,
          callbacks: () => [new ProgressCallback((line) => ctx.stderr.write(`${line}\n`))],
          log: (message) => ctx.stderr.write(`${message}\n`),
        });
        if (flagOption(args, 'json')) {
          return ctx.printJson({
            baseRunId: comparison.baseRunId,
            base: comparison.base,
            sizes: comparison.sizes,
            lookalikeShare: comparison.lookalikeShare,
            variants: comparison.variants.map(({ history: _history, ...variant }) => variant),
          });
        }
        const { columns, rows } = centerComparisonTable(comparison);
        ctx.print(textTable(columns, rows));
        ctx.print(`look at them: glyphlab runs compare ${comparison.variants.map((v) => v.runId).join(' ')}`);
      },
    },
  ],
};
