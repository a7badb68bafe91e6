import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCrnnOptions } from '../../src/models/crnn';
import { resolveLenetOptions } from '../../src/models/lenet';
import { resolveMlpOptions } from '../../src/models/mlp';
import { architectureParams, crnnOptionsOf, readArchitecture } from '../../src/runs/architecture';

describe('architecture params', () => {
  test('flat keys per family, from the builder config', () => {
    assert.deepEqual(architectureParams('crnn', resolveCrnnOptions({ inputHeight: 32, inputWidth: 150, rnn: 'gru', convFilters: [16, 32] })), {
      'input.height': 32,
      'input.width': 150,
      'input.channels': 1,
      'model.classes': 17,
      'model.filters': [16, 32],
      'model.rnn': 'gru',
      'model.rnnUnits': 128,
      'model.rnnLayers': 2,
      'model.bnMomentum': 0.99,
      'model.pools': [[2, 2], [2, 2]],
      'model.stridedStem': false,
      'model.convKernel': 3,
      'model.recurrentActivation': 'sigmoid',
      'model.dropout': 0.2,
    });
    const vgg = architectureParams('vgg19-crnn', { inputHeight: 64, inputWidth: 300, numClasses: 17, rnn: 'lstm', rnnUnits: 64, rnnLayers: 2, dropout: 0.2, filterDivisor: 4, weights: 'random' });
    assert.deepEqual([vgg['input.channels'], vgg['model.filterDivisor'], vgg['model.weights'], vgg['model.filters']], [3, 4, 'random', undefined]);
    const cnn = architectureParams('cnn', resolveLenetOptions({ convFilters: [4, 8], batchNorm: true, squeezeExcitation: true }));
    assert.deepEqual([cnn['input.height'], cnn['model.filters'], cnn['model.batchNorm'], cnn['model.se'], cnn['model.kernel'], cnn['model.dense']], [28, [4, 8], true, true, 5, [120, 84]]);
    const mlp = architectureParams('mlp', resolveMlpOptions({ hiddenUnits: [64] }));
    assert.deepEqual([mlp['model.dense'], mlp['model.dropout'], mlp['model.l2'], 'model.rnn' in mlp], [[64], 0.2, 0, false]);
    assert.throws(() => architectureParams('resnet', {}), /no architecture params for model "resnet"/);
  });

  test('a run recorded before the params existed reads its architecture from its config', () => {
    // Equation runs kept the builder config as `model`; character runs as `architecture`.
    const crnn = readArchitecture({ params: { model: 'crnn', epochs: 3 }, config: { model: { ...resolveCrnnOptions({ rnn: 'gru' }) } } });
    assert.deepEqual([crnn?.['model.rnn'], crnn?.['input.height'], crnn?.['model.filters']], ['gru', 64, [32, 64, 128, 128]]);
    const cnn = readArchitecture({ params: { model: 'cnn', 'architecture.kernelSize': 3 }, config: { architecture: { ...resolveLenetOptions({ kernelSize: 3, numClasses: 26 }) } } });
    assert.deepEqual([cnn?.['model.kernel'], cnn?.['model.classes']], [3, 26]);
    assert.equal(readArchitecture({ params: { model: 'writer_cnn' }, config: { writers: 10 } }), undefined, 'nothing to read');
  });

  test('a run with the params reads exactly them', () => {
    const params = { model: 'crnn', 'input.height': 32, 'input.width': 128, 'input.channels': 1, 'model.classes': 17, 'model.rnn': 'lstm', lr: 0.001 };
    assert.deepEqual(readArchitecture({ params, config: { model: { rnn: 'gru' } } }), { 'input.height': 32, 'input.width': 128, 'input.channels': 1, 'model.classes': 17, 'model.rnn': 'lstm' });
  });

  test('batch-norm momentum: recorded, read back for resume, and taken from the config of runs recorded before the param', () => {
    const built = resolveCrnnOptions({ inputHeight: 32, inputWidth: 150, rnnLayers: 1, batchNormMomentum: 0.9 });
    const architecture = architectureParams('crnn', built);
    assert.equal(architecture['model.bnMomentum'], 0.9);
    const rebuilt = resolveCrnnOptions(crnnOptionsOf(architecture));
    assert.deepEqual([rebuilt.batchNormMomentum, rebuilt.rnnLayers, rebuilt.inputWidth], [0.9, 1, 150]);
    // A run that has the flat params but not this one (recorded before it existed): its builder config says 0.9.
    const { ['model.bnMomentum']: _omitted, ...older } = architecture;
    const read = readArchitecture({ params: { model: 'crnn', ...older }, config: { model: { ...built } } });
    assert.equal(read?.['model.bnMomentum'], 0.9);
    assert.equal(resolveCrnnOptions(crnnOptionsOf(read!)).batchNormMomentum, 0.9);
    // Without it anywhere, the builder's default applies.
    assert.equal(readArchitecture({ params: { model: 'crnn', ...older }, config: null })?.['model.bnMomentum'], undefined);
  });

  test('strided stem: recorded, rebuilt for resume, and off for runs recorded before it existed', () => {
    const architecture = architectureParams('crnn', resolveCrnnOptions({ inputHeight: 32, inputWidth: 150, stridedStem: true }));
    assert.equal(architecture['model.stridedStem'], true);
    assert.equal(resolveCrnnOptions(crnnOptionsOf(architecture)).stridedStem, true);
    const { ['model.stridedStem']: _omitted, ...older } = architecture;
    const olderBuilder = { ...resolveCrnnOptions({ inputHeight: 32, inputWidth: 150 }) } as Record<string, unknown>;
    delete olderBuilder['stridedStem'];
    const read = readArchitecture({ params: { model: 'crnn', ...older }, config: { model: olderBuilder } });
    assert.equal(read?.['model.stridedStem'], undefined);
    assert.equal(resolveCrnnOptions(crnnOptionsOf(read!)).stridedStem, false);
  });

  test('pools: recorded, rebuilt for resume, and read from the builder config of runs recorded before the param', () => {
    const pools: [number, number][] = [[4, 4], [2, 2], [2, 1], [2, 1]];
    const built = resolveCrnnOptions({ inputHeight: 64, inputWidth: 300, convFilters: [16, 32, 64, 96], pools, stridedStem: true });
    const architecture = architectureParams('crnn', built);
    assert.deepEqual(architecture['model.pools'], pools);
    assert.deepEqual(resolveCrnnOptions(crnnOptionsOf(architecture)).pools, pools, 'a resume rebuilds the recorded pools, not the defaults');
    const withNull = architectureParams('crnn', resolveCrnnOptions({ convFilters: [8, 16], pools: [[2, 2], null] }));
    assert.deepEqual(withNull['model.pools'], [[2, 2], null]);
    const { ['model.pools']: _omitted, ...older } = architecture;
    const read = readArchitecture({ params: { model: 'crnn', ...older }, config: { model: { ...built } } });
    assert.deepEqual(read?.['model.pools'], pools);
    assert.deepEqual(resolveCrnnOptions(crnnOptionsOf(read!)).pools, pools);
  });
});
