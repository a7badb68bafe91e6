/** `glyphlab predict`: read single equation images with a reader (data/readers/NAME) or a run's model. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ConfigError, DataError, errorMessage } from '../errors';
import { checkRegularFile, imageFileLimit } from '../image/read-file';
import { preprocessBatch } from '../data/equations/batch-preprocess';
import { isReader, listReaders, loadReader, readersDir } from '../runs/readers';
import { loadRunModel } from '../runs/run-model';
import { decodeTexts, predictLogits, type SequenceDecoder } from '../training/sequence';
import { announceBackend } from './backend';
import {
  choiceOption,
  type CommandGroup,
  DB_OPTION,
  DECODER_OPTION,
  flagOption,
  jsonOption,
  requireOption,
  runOption,
  stringOption,
} from './command';

/**
 * Refuses, before the model loads, an image argument that is missing, no regular file (a FIFO
 * would block the read, `/dev/zero` would fill memory) or above `GLYPHLAB_MAX_IMAGE_BYTES`.
 */
function checkImageArgument(image: string): void {
  const path = resolve(image);
  let stats;
  try {
    // stat, not open: opening a FIFO would wait for a writer.
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DataError(`cannot read ${image} (${code === 'ENOENT' ? 'no such file' : code ?? String(error)})`, { cause: error });
  }
  checkRegularFile(image, stats, imageFileLimit());
}

export const predictGroup: CommandGroup = {
  name: 'predict',
  summary: "read equation images with a run's model",
  commands: [
    {
      name: '',
      summary: 'print the text read from each image',
      args: 'IMAGE...',
      options: {
        model: { type: 'string', valueName: 'NAME|RUN', description: 'the reader that reads the images: a reader of data/readers/ (glyphlab readers ls, e.g. equations-wide) or a run' },
        run: runOption('the run whose model reads the images (the same as --model RUN)'),
        decoder: DECODER_OPTION,
        db: DB_OPTION,
        json: jsonOption('[{image, text}]'),
      },
      async run(args, ctx) {
        const named = stringOption(args, 'model');
        if (named !== undefined && stringOption(args, 'run') !== undefined) throw new ConfigError('--model and --run both name the model: give one');
        const source = named ?? requireOption(args, 'run', '--model equations-wide (a reader of data/readers/) or --run 20261122-101500-ab12cd (or its last part, ab12cd)');
        if (args.positionals.length === 0) throw new ConfigError('no images given: usage `glyphlab predict --model NAME|RUN IMAGE...`');
        const decoder = choiceOption<SequenceDecoder>(args, 'decoder', ['greedy', 'grammar']) ?? 'greedy';
        for (const image of args.positionals) checkImageArgument(image);
        await announceBackend(ctx);
        // A reader's name first: a run is named by id, short id or name prefix, a reader by its folder.
        const loaded = named !== undefined && isReader(named) ? await loadReader(named) : await loadRunModel(source, { dbPath: stringOption(args, 'db') }).catch((error: unknown) => {
          if (named === undefined) throw error;
          const readers = listReaders();
          throw new ConfigError(`--model ${named} is neither a reader of ${readersDir()} (${readers.length > 0 ? readers.join(', ') : 'none there'}) nor a run: ${errorMessage(error)}`, { cause: error });
        });
        const [, height, width, channels] = loaded.model.inputs[0]!.shape as [null, number, number, 1 | 3];
        const results: { image: string; text: string }[] = [];
        for (const image of args.positionals) {
          // The same decoding, fitting and scaling as training batches.
          const pixels = await preprocessBatch([resolve(image)], [0], { height, width, channels, augment: false, augmentSeed: '' });
          const x = tf.tensor4d(pixels, [1, height, width, channels]);
          const logits = predictLogits(loaded.model, x);
          const text = decodeTexts(logits, decoder)[0] ?? '';
          tf.dispose([x, logits]);
          results.push({ image, text });
          if (!flagOption(args, 'json')) ctx.print(`${image}\t${text}`);
        }
        loaded.model.dispose();
        if (flagOption(args, 'json')) ctx.printJson(results);
      },
    },
  ],
};
