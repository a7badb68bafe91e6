/** Search spaces: named train options checked against the run spec's field table, grid points in order, seeded draws. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors';
import { gridSize, parseSearchSpace, sampleTrials } from '../../src/sweeps/space';

describe('parseSearchSpace', () => {
  test('names options by flag or option path, and keeps the flag', () => {
    const space = parseSearchSpace({ learningRate: { loguniform: [1e-4, 1e-2] }, 'rnn-units': { int: [8, 64] }, rnn: { choice: ['gru', 'lstm'] }, dropout: { uniform: [0, 0.3] } });
    assert.deepEqual(space, { kind: 'random', options: { lr: { loguniform: [1e-4, 1e-2] }, 'rnn-units': { int: [8, 64] }, rnn: { choice: ['gru', 'lstm'] }, dropout: { uniform: [0, 0.3] } } });
  });

  test('a grid checks every value against the field', () => {
    const space = parseSearchSpace({ grid: { lr: [0.001, 0.003], filters: [[8, 16], [16, 32]] } });
    assert.equal(space.kind, 'grid');
    assert.equal(gridSize(space as Extract<typeof space, { kind: 'grid' }>), 4);
  });

  const refused: [string, unknown, RegExp][] = [
    ['an unknown option, listing the known ones', { learning_rate: { uniform: [0, 1] } }, /"learning_rate" is not a train option; use one of: epochs, .*lr/],
    ['a value out of the field\'s bounds', { grid: { dropout: [0.1, 1.5] } }, /grid\.dropout\[1\] 1\.5 is not a value of --dropout; it takes a number >= 0 and <= 0\.99/],
    ['a choice the field does not have', { rnn: { choice: ['gru', 'transformer'] } }, /rnn\.choice\[1\] "transformer" is not a value of --rnn; it takes one of: lstm, gru/],
    ['a fractional value of a whole-number field', { grid: { 'rnn-units': [8, 12.5] } }, /grid\.rnn-units\[1\] 12\.5 .* it takes a whole number >= 1/],
    ['a uniform range of a whole-number field', { 'rnn-units': { uniform: [8, 64] } }, /--rnn-units takes whole numbers; use \{"int": \[8, 64\]\}/],
    ['a log-uniform range from 0', { 'weight-decay': { loguniform: [0, 0.1] } }, /a log-uniform range must be above 0/],
    ['a range upside down', { lr: { uniform: [0.01, 0.001] } }, /low 0\.01 must be below high 0\.001/],
    ['an unknown distribution', { lr: { normal: [0, 1] } }, /must be one of \{"choice": \[\.\.\.\]\}, \{"uniform"/],
    ['a range of a choice field', { optimizer: { uniform: [0, 1] } }, /--optimizer takes one of .*use \{"choice": \[\.\.\.\]\}/],
    ['an empty space', {}, /the search space is empty/],
    ['a grid beside random options', { grid: { lr: [0.001] }, rnn: { choice: ['gru'] } }, /a grid space has only "grid"; move rnn into it/],
    ['an option named twice', { lr: { uniform: [0.001, 0.01] }, learningRate: { uniform: [0.001, 0.01] } }, /names --lr twice/],
    ['not an object', [1, 2], /must be a JSON object/],
  ];
  for (const [what, json, message] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => parseSearchSpace(json), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    });
  }
});

describe('sampleTrials', () => {
  test('a grid gives every point once, the last option fastest, and refuses another trial count', () => {
    const space = parseSearchSpace({ grid: { lr: [0.001, 0.003], rnn: ['gru', 'lstm'] } });
    assert.deepEqual(sampleTrials(space, { seed: 0 }), [
      { lr: 0.001, rnn: 'gru' },
      { lr: 0.001, rnn: 'lstm' },
      { lr: 0.003, rnn: 'gru' },
      { lr: 0.003, rnn: 'lstm' },
    ]);
    assert.throws(() => sampleTrials(space, { trials: 3, seed: 0 }), /the grid has 4 points, so the sweep runs 4 trials; leave out --trials \(got 3\)/);
  });

  test('random draws stay in their ranges, repeat with the seed, change with another, and need a trial count', () => {
    const space = parseSearchSpace({ lr: { loguniform: [1e-4, 1e-2] }, 'rnn-units': { int: [8, 10] }, rnn: { choice: ['gru', 'lstm'] } });
    const trials = sampleTrials(space, { trials: 40, seed: 7 });
    assert.equal(trials.length, 40);
    for (const trial of trials) {
      assert.ok((trial.lr as number) >= 1e-4 && (trial.lr as number) < 1e-2);
      assert.ok([8, 9, 10].includes(trial['rnn-units'] as number));
      assert.ok(['gru', 'lstm'].includes(trial.rnn as string));
    }
    // Every value of the int range and both choices appear in 40 draws; the log-uniform draws spread over both decades.
    assert.deepEqual(new Set(trials.map((t) => t['rnn-units'])), new Set([8, 9, 10]));
    assert.deepEqual(new Set(trials.map((t) => t.rnn)), new Set(['gru', 'lstm']));
    assert.ok(trials.some((t) => (t.lr as number) < 1e-3) && trials.some((t) => (t.lr as number) > 1e-3));
    assert.deepEqual(sampleTrials(space, { trials: 40, seed: 7 }), trials);
    assert.deepEqual(sampleTrials(space, { trials: 3, seed: 7 }), trials.slice(0, 3), 'a trial does not depend on how many there are');
    assert.notDeepEqual(sampleTrials(space, { trials: 3, seed: 8 }), trials.slice(0, 3));
    assert.throws(() => sampleTrials(space, { seed: 7 }), /a random search space needs a number of trials \(--trials N/);
  });
});
