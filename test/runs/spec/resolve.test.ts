/**
 * The run spec: one pure function resolves a user's options over a recipe into a complete,
 * JSON-able spec; recipes are defined once; bad values are refused naming the option and its flag.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { ConfigError } from '../../../src/errors';
import { resolveCrnnOptions } from '../../../src/models/crnn';
import { architectureParams } from '../../../src/runs/architecture';
import {
  EQUATION_FIELDS,
  EQUATION_RECIPE_NAMES,
  EQUATION_RECIPES,
  type EquationMachine,
  type EquationRunSpec,
  describeEquationSpec,
  describeFieldDefault,
  resolveEquationRunSpec,
  reviseEquationRunSpec,
} from '../../../src/runs/spec/index';

const machine: EquationMachine = { cores: 2, backend: 'wasm', memoryBytes: 8 * 1024 ** 3 };
const spec = (options: Partial<Parameters<typeof resolveEquationRunSpec>[0]> = {}): EquationRunSpec => resolveEquationRunSpec({ dataDir: 'data/eq', ...options }, machine);

/** Every path to an undefined value in `value` (a complete spec has none). */
function undefinedPaths(value: unknown, path = 'spec'): string[] {
  if (value === undefined) return [path];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => undefinedPaths(v, `${path}.${key}`));
}

describe('resolveEquationRunSpec', () => {
  test('every recipe resolves to a complete spec: no undefined anywhere, and JSON round-trips it exactly', () => {
    for (const recipe of EQUATION_RECIPE_NAMES) {
      const resolved = spec({ recipe });
      assert.deepEqual(undefinedPaths(resolved), [], recipe);
      assert.deepEqual(JSON.parse(JSON.stringify(resolved)), resolved, recipe);
      assert.equal(resolved.recipe, recipe);
      assert.equal(resolved.specVersion, 1);
    }
    const vgg = spec({ model: 'vgg19-crnn' });
    assert.deepEqual(undefinedPaths(vgg), []);
    assert.deepEqual([vgg.recipe, vgg.crnn, vgg.vgg19?.weights, vgg.vgg19?.phase1Epochs, vgg.vgg19?.lastN], ['reference', null, 'imagenet', 2, 5]);
  });

  test('is pure: the same options and machine give the same spec, and the options are not changed', () => {
    const options = { dataDir: 'data/eq', crnn: { rnnUnits: 64 }, tags: ['a'] };
    const copy = structuredClone(options);
    assert.deepEqual(resolveEquationRunSpec(options, machine), resolveEquationRunSpec(options, machine));
    assert.deepEqual(options, copy);
  });

  test('without a recipe, the best known for the budget: quick, long from 30 minutes, reference for the VGG19-CRNN', () => {
    assert.equal(spec().recipe, 'quick');
    assert.equal(spec({ minutes: 29 }).recipe, 'quick');
    assert.equal(spec({ minutes: 30 }).recipe, 'long');
    assert.equal(spec({ model: 'vgg19-crnn' }).recipe, 'reference');
    assert.equal(spec({ recipe: 'reference', minutes: 90 }).recipe, 'reference', 'a named recipe wins');
  });

  test('the quick recipe is npm start\'s model and optimiser; the reference recipe is the seed\'s', () => {
    const quick = spec();
    assert.deepEqual(
      [quick.crnn?.inputHeight, quick.crnn?.inputWidth, quick.crnn?.convFilters, quick.crnn?.stridedStem, quick.crnn?.rnn, quick.crnn?.dropout, quick.crnn?.batchNormMomentum],
      [32, 150, [16, 32, 64, 96], true, 'gru', 0, 0.9],
    );
    assert.deepEqual([quick.training.learningRate, quick.training.weightDecay, quick.training.schedule, quick.training.minutes, quick.training.earlyStopping, quick.training.reduceLrOnPlateau], [0.003, 0.05, 'warmup-cosine', 12.5, null, null]);
    const reference = spec({ recipe: 'reference' });
    assert.deepEqual(reference.crnn, resolveCrnnOptions({ seed: 0 }), "the builder's own defaults");
    assert.deepEqual([reference.training.learningRate, reference.training.epochs, reference.training.schedule, reference.training.minutes], [0.001, 10, 'plateau', null]);
    assert.deepEqual(reference.training.earlyStopping, { patience: 8, minDelta: 0 });
    assert.deepEqual(reference.training.reduceLrOnPlateau, { factor: 0.5, patience: 3, minLr: 1e-6 });
  });

  test("the user's fields win over the recipe's, the CRNN's field by field; the run's seed seeds the weights", () => {
    const resolved = spec({ recipe: 'quick', learningRate: 0.01, crnn: { rnnUnits: 64, rnn: undefined }, seed: 7, epochs: 3 });
    assert.equal(resolved.training.learningRate, 0.01);
    assert.deepEqual([resolved.crnn?.rnnUnits, resolved.crnn?.rnn, resolved.crnn?.inputWidth, resolved.crnn?.seed], [64, 'gru', 150, 7], 'an undefined field leaves the recipe\'s');
    assert.equal(resolved.training.epochs, 3);
    assert.equal(resolved.training.weightDecay, 0.05, 'untouched fields keep the recipe\'s');
  });

  test('the machine sets replicas and workers; the data folder is made absolute; limits and augmentation are resolved', () => {
    const resolved = spec({ limit: { train: 100 }, augment: { maxShear: 0.2 } });
    assert.deepEqual(resolved.compute, { replicas: 2, workers: 2 });
    assert.deepEqual(resolveEquationRunSpec({ dataDir: 'd' }, { ...machine, backend: 'tensorflow', cores: 8 }).compute, { replicas: 1, workers: 2 });
    assert.equal(resolved.data.dir, resolve('data/eq'));
    assert.deepEqual(resolved.data.limit, { train: 100, val: null, test: null });
    assert.deepEqual(resolved.data.augment, { placement: 0.5, maxRotationDegrees: 3, noise: 6, smudge: 0.2, maxShear: 0.2, maxStretch: 0, maxStroke: 0 });
    assert.equal(spec().data.augment, null);
  });

  test('a value out of bounds is refused naming the option, its flag and what is accepted', () => {
    assert.throws(() => spec({ batchSize: 0 }), (e: unknown) => e instanceof ConfigError && e.message === 'batchSize (--batch-size) 0 must be a whole number >= 1');
    assert.throws(() => spec({ crnn: { inputHeight: 4 } }), /crnn\.inputHeight \(--input-height\) 4 must be a whole number >= 8 and <= 1024/);
    assert.throws(() => spec({ crnn: { convFilters: [8, 0] } }), /crnn\.convFilters \(--filters\) \[8,0\] must be a whole number each >= 1/);
    assert.throws(() => spec({ optimizer: 'lion' as never }), /optimizer \(--optimizer\) "lion" is not one of: adam, sgd, rmsprop/);
    assert.throws(() => spec({ recipe: 'fast' as never }), /recipe "fast" is not one of: quick, long, reference/);
    assert.throws(() => spec({ limit: { val: 0 } }), /limit\.val 0 must be a positive whole number/);
    assert.throws(() => resolveEquationRunSpec({ dataDir: '' }, machine), /dataDir is required/);
  });

  test('more replicas than images in a batch are refused up front, naming both', () => {
    assert.throws(() => spec({ replicas: 3, batchSize: 2 }), (e: unknown) => e instanceof ConfigError && /replicas 3 \(--replicas\) is more than the batch size 2 \(--batch-size\)/.test(e.message));
    assert.equal(spec({ replicas: 2, batchSize: 2 }).compute.replicas, 2);
  });

  test('a step that cannot fit the memory is refused up front with its size (--input-width 100000)', () => {
    assert.throws(() => spec({ crnn: { inputWidth: 8192 }, recipe: 'reference', batchSize: 512, replicas: 1 }), /needs at least [\d.]+ GB per replica .* more than a replica's 4 GB wasm heap/);
    assert.throws(() => resolveEquationRunSpec({ dataDir: 'd', crnn: { inputWidth: 8192, inputHeight: 1024 } }, { ...machine, backend: 'tensorflow' }), /more than this machine's 8\.0 GB of memory/);
    assert.doesNotThrow(() => spec({ recipe: 'reference', replicas: 1 }), 'the reference size fits');
  });

  test('a warm-up cosine needs no plateau rule; weight decay that would flip the weights is refused', () => {
    assert.equal(spec({ recipe: 'reference', schedule: 'warmup-cosine' }).training.reduceLrOnPlateau, null);
    assert.throws(() => spec({ learningRate: 0.5, weightDecay: 2 }), /learning rate x weight decay must stay below 1/);
  });

  test('reviseEquationRunSpec changes only the epochs, replicas and workers, and checks them', () => {
    const recorded = spec({ recipe: 'reference', epochs: 30 });
    assert.deepEqual(reviseEquationRunSpec(recorded, {}, machine), recorded, 'nothing given: the run as recorded (30 epochs, not a default)');
    const revised = reviseEquationRunSpec(recorded, { epochs: 40, replicas: 1 }, machine);
    assert.deepEqual([revised.training.epochs, revised.compute.replicas, revised.training.learningRate], [40, 1, recorded.training.learningRate]);
    assert.throws(() => reviseEquationRunSpec(recorded, { replicas: 64 }, machine), /more than the batch size 32/);
    assert.throws(() => reviseEquationRunSpec(recorded, { epochs: 0 }, machine), /epochs \(--epochs\) 0 must be a whole number >= 1/);
  });
});

describe('recipes, fields and the words for them', () => {
  test('every recipe is defined once, with a summary; the fields describe every flag with its default per recipe', () => {
    assert.deepEqual(Object.keys(EQUATION_RECIPES), [...EQUATION_RECIPE_NAMES]);
    for (const name of EQUATION_RECIPE_NAMES) assert.ok(EQUATION_RECIPES[name].summary.length > 20);
    const field = (flag: string) => EQUATION_FIELDS.find((f) => f.flag === flag)!;
    assert.equal(describeFieldDefault(field('lr'), machine), 'quick 0.003, long 0.003, reference 0.001');
    assert.equal(describeFieldDefault(field('batch-size'), machine), 'default 32');
    assert.equal(describeFieldDefault(field('input-width'), machine), 'quick 150, long 150, reference 300');
    assert.equal(describeFieldDefault(field('strided-stem'), machine), 'quick on, long off, reference off');
    assert.equal(describeFieldDefault(field('phase1-epochs'), machine), 'vgg19-crnn 2');
    assert.equal(describeFieldDefault(field('replicas'), machine), 'default one per core on the wasm backend, 1 elsewhere');
    assert.equal(new Set(EQUATION_FIELDS.map((f) => f.flag)).size, EQUATION_FIELDS.length, 'one field per flag');
  });

  test('a spec in words names the model and how it trains', () => {
    assert.equal(describeEquationSpec(spec()), 'crnn 32x150, conv 16-32-64-96 (strided first block), 2x BiGRU(128), dropout 0; adam 0.003 warmup-cosine over 12.5 minutes, batch 32, weight decay 0.05');
    assert.match(describeEquationSpec(spec({ model: 'vgg19-crnn' })), /^vgg19-crnn 64x300, VGG19 conv \(imagenet weights\), 2x BiLSTM\(128\), dropout 0\.2; adam 0\.001 plateau for 10 epochs/);
  });

  test('a knob of the CRNN builder becomes an architecture param by itself: every config key but name, seed and fusedRnn', () => {
    const config = spec().crnn!;
    const params = architectureParams('crnn', config);
    const renamed: Record<string, string> = { inputHeight: 'input.height', inputWidth: 'input.width', channels: 'input.channels', numClasses: 'model.classes', convFilters: 'model.filters', batchNormMomentum: 'model.bnMomentum' };
    for (const key of Object.keys(config).filter((k) => !['name', 'seed', 'fusedRnn'].includes(k))) {
      assert.ok((renamed[key] ?? `model.${key}`) in params, `${key} is recorded`);
    }
    assert.equal(params['model.recurrentActivation'], 'sigmoid');
    assert.ok(!('model.seed' in params) && !('model.name' in params));
  });
});
