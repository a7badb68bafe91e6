import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStepSchedule, parseStepSchedule, scheduleFromHistory, stepSchedule, warmupCosine } from '../../src/training/schedule';
import { ConfigError } from '../../src/errors';

describe('step learning-rate schedules', () => {
  test('parses RATExEPOCHS items, holds the last rate past the end, and formats back', () => {
    const parsed = parseStepSchedule('0.002x2, 0.001, 5e-4x3');
    assert.equal(parsed.epochs, 6);
    assert.deepEqual(Array.from({ length: 8 }, (_, e) => parsed.schedule(e)), [0.002, 0.002, 0.001, 0.0005, 0.0005, 0.0005, 0.0005, 0.0005]);
    assert.equal(formatStepSchedule(parsed), '0.002x2,0.001x1,0.0005x3');
    assert.deepEqual(parseStepSchedule(formatStepSchedule(parsed)).steps, parsed.steps);
  });

  test('replays the rates of a run history up to a chosen epoch, merging equal neighbours', () => {
    const rates = [0.002, 0.002, 0.001, 0.001, 0.0005, 0.00025];
    const replay = scheduleFromHistory(rates, 5);
    assert.equal(formatStepSchedule(replay), '0.002x2,0.001x2,0.0005x1');
    assert.equal(replay.epochs, 5);
    assert.throws(() => scheduleFromHistory(rates, 7), /cannot replay 7 epochs from a history of 6/);
  });

  test('bad schedules name the item and what is accepted', () => {
    assert.throws(() => parseStepSchedule('0.002x6,fast'), (e: unknown) => e instanceof ConfigError && /"fast" is not RATExEPOCHS/.test(e.message));
    assert.throws(() => parseStepSchedule('0.002x0'), /step 1: 0 epochs must be a positive integer/);
    assert.throws(() => parseStepSchedule('0x3'), /step 1: learning rate 0 must be a positive number/);
    assert.throws(() => parseStepSchedule(' , '), /at least one step/);
    assert.throws(() => stepSchedule([{ learningRate: 0.1, epochs: 1.5 }]), /1.5 epochs/);
  });
});

describe('warm-up cosine per batch', () => {
  test('rises linearly to the peak over the warm-up, falls along a half cosine to the floor, and holds it', () => {
    const rate = warmupCosine({ peak: 0.004, warmup: 0.2, floor: 0.0001, totalSteps: 100 });
    const at = (step: number): number => rate({ step, elapsedMs: 0 });
    assert.equal(at(10), 0.002);
    assert.equal(at(20), 0.004);
    // Halfway through the decay: the mean of peak and floor.
    assert.ok(Math.abs(at(60) - 0.00205) < 1e-12, `${at(60)}`);
    assert.ok(Math.abs(at(100) - 0.0001) < 1e-12);
    assert.ok(Math.abs(at(150) - 0.0001) < 1e-12);
    // Never below the floor, even at step 0.
    assert.equal(at(0), 0.0001);
    for (let s = 21; s < 100; s++) assert.ok(at(s) < at(s - 1), `falls at ${s}`);
  });

  test('a time budget drives it by elapsed time instead of steps', () => {
    const rate = warmupCosine({ peak: 0.01, budgetMs: 60_000 });
    assert.equal(rate({ step: 99_999, elapsedMs: 3_000 }), 0.005);
    assert.ok(Math.abs(rate({ step: 0, elapsedMs: 60_000 }) - 0.0001) < 1e-12);
  });

  test('with a time budget and a step count, follows whichever is further along (the one that ends training first)', () => {
    const rate = warmupCosine({ peak: 0.01, budgetMs: 60_000, totalSteps: 100 });
    assert.equal(rate({ step: 5, elapsedMs: 3_000 }), 0.005, 'both at 5%: halfway through the warm-up');
    assert.equal(rate({ step: 5, elapsedMs: 0 }), 0.005, 'the steps alone');
    assert.equal(rate({ step: 0, elapsedMs: 3_000 }), 0.005, 'the clock alone');
    assert.ok(Math.abs(rate({ step: 100, elapsedMs: 1_000 }) - 0.0001) < 1e-12, 'the last step ends the cosine however little time passed');
  });

  test('bad settings are refused with the value', () => {
    assert.throws(() => warmupCosine({ peak: 0, totalSteps: 10 }), /peak rate 0 must be a positive number/);
    assert.throws(() => warmupCosine({ peak: 0.1, warmup: 1, totalSteps: 10 }), /warm-up share 1 must be in \[0, 1\)/);
    assert.throws(() => warmupCosine({ peak: 0.1 }), /needs budgetMs or totalSteps/);
    assert.throws(() => warmupCosine({ peak: 0.1, floor: 0.2, totalSteps: 10 }), /floor 0.2 must be positive and at most the peak/);
  });
});
