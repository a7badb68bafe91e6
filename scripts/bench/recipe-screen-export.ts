/**
 * Exports an equation folder's training split and an even spread of its validation split as
 * model inputs (8-bit grey, through glyphlab's own loader) for `recipe_screen.py`, the PyTorch
 * recipe screen of docs/recipes.md (step 7): `PREFIX-train.u8` / `PREFIX-val.u8` (images, row
 * after row) and `PREFIX-train.txt` / `PREFIX-val.txt` (one label per line, same order).
 *
 *   node --import tsx scripts/bench/recipe-screen-export.ts --data data/equations --out /tmp/eq64k
 *
 * Options: --height 32 --width 150 (the quick recipe's input), --val 2000 (validation images),
 * --seed 0 (the split seed, npm start's).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadModelInput } from '../../src/data/equations/batch-preprocess';
import { loadLabeledImages } from '../../src/data/equations/load';
import { spreadSubset, stratifiedSplit } from '../../src/data/equations/split';
import { createProgressBar } from '../../src/cli/progress';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      height: { type: 'string', default: '32' },
      width: { type: 'string', default: '150' },
      val: { type: 'string', default: '2000' },
      seed: { type: 'string', default: '0' },
    },
  });
  if (!values.data || !values.out) throw new Error('usage: recipe-screen-export.ts --data DIR --out PREFIX [--height 32 --width 150 --val 2000 --seed 0]');
  const height = Number(values.height);
  const width = Number(values.width);
  const set = await loadLabeledImages(values.data, { check: 'header' });
  const { splits } = stratifiedSplit(set.samples, { ratios: [8, 1, 1], seed: Number(values.seed) });
  for (const [name, samples] of [['train', splits.train], ['val', spreadSubset(splits.val, Number(values.val))]] as const) {
    const pixels = new Uint8Array(samples.length * height * width);
    const bar = createProgressBar(`exporting ${name}`, samples.length);
    for (let start = 0; start < samples.length; start += 64) {
      const chunk = samples.slice(start, start + 64);
      const images = await Promise.all(chunk.map((s) => loadModelInput(s.path, { height, width, channels: 1 })));
      images.forEach((image, i) => pixels.set(image.data, (start + i) * height * width));
      bar.update(start + chunk.length);
    }
    bar.finish();
    writeFileSync(`${values.out}-${name}.u8`, pixels);
    writeFileSync(`${values.out}-${name}.txt`, samples.map((s) => s.label).join('\n'));
    console.log(`${name}: ${samples.length} images -> ${values.out}-${name}.u8`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
