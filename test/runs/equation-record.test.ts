import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCrnnOptions } from '../../src/models/crnn';
import { architectureParams } from '../../src/runs/architecture';
import { readEquationRecord, recordedEquationOptions } from '../../src/runs/equation-record';

const training = { epochs: 12, optimizer: 'sgd', learningRate: 0.01, clipNorm: 5, clipValue: null, monitor: 'val_accuracy', mode: 'max', earlyStopping: { patience: 4, minDelta: 0 }, reduceLrOnPlateau: null, learningRateSchedule: null, trainableLayers: 'all', initialEpoch: 0 };

describe('the record of an equation run', () => {
  test('reads back as the options the run was trained with', () => {
    const model = { ...resolveCrnnOptions({ inputHeight: 32, rnn: 'gru', convFilters: [8, 16] }) };
    const config = {
      model,
      data: { dir: '/data/eq', split: 'split.json', sizes: { train: 8, val: 1, test: 1 }, limit: { train: 8, val: 1 }, seed: 3, augment: false },
      batchSize: 16,
      evalBatchSize: 64,
      training: { ...training, weightDecay: 0.05 },
      totalEpochs: 12,
    };
    const options = recordedEquationOptions({ params: { model: 'crnn', ...architectureParams('crnn', model) }, config });
    assert.equal(options.dataDir, '/data/eq');
    assert.equal(options.model, 'crnn');
    assert.deepEqual([options.crnn?.inputHeight, options.crnn?.rnn, options.crnn?.convFilters], [32, 'gru', [8, 16]]);
    assert.deepEqual([options.epochs, options.batchSize, options.evalBatchSize, options.seed], [12, 16, 64, 3]);
    assert.deepEqual([options.optimizer, options.clipNorm, options.earlyStopping, options.reduceLrOnPlateau], ['sgd', 5, { patience: 4, minDelta: 0 }, false]);
    assert.deepEqual(options.limit, { train: 8, val: 1 });
    assert.equal(options.weightDecay, 0.05, 'a resumed run decays its weights as it began');
    assert.equal(options.modelConfig, model);
  });

  test('a run recorded with `valid` and without architecture params reads the same way', () => {
    const model = { ...resolveCrnnOptions({ inputHeight: 32, rnn: 'gru' }) };
    const config = { model, data: { dir: '/data/eq', sizes: { train: 8, valid: 1, test: 1 }, limit: { train: 8, valid: 1, test: 1 }, seed: 0, augment: {} }, batchSize: 32, training };
    const options = recordedEquationOptions({ params: { model: 'crnn' }, config });
    assert.deepEqual(options.limit, { train: 8, val: 1, test: 1 });
    assert.deepEqual(readEquationRecord(config).data?.sizes, { train: 8, val: 1, test: 1 });
    assert.deepEqual([options.crnn?.inputHeight, options.crnn?.rnn], [32, 'gru'], 'the architecture from the recorded builder config');
    assert.deepEqual(options.augment, {});
    assert.equal(options.weightDecay, undefined, 'runs recorded before weight decay read as none');
    assert.deepEqual(readEquationRecord(null), {});
  });
});
