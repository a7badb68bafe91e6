import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStepSchedule, parseStepSchedule, scheduleFromHistory, stepSchedule } from '../../src/training/schedule';
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
