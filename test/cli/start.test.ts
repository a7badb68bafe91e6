import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { START_JOB, trainingMinutesLeft } from '../../src/cli/start';

describe('trainingMinutesLeft (npm start\'s training budget)', () => {
  const recipe = { jobMinutes: 14, reserveMinutes: 0.4, minMinutes: 1 };

  test('gives training what set-up and synthesis left of the whole job, less the reserve', () => {
    assert.equal(trainingMinutesLeft(1.6, recipe), 12);
    assert.equal(trainingMinutesLeft(0, recipe), 13.6);
  });

  test('never goes under the least training time, however long set-up took', () => {
    assert.equal(trainingMinutesLeft(13.9, recipe), 1);
    assert.equal(trainingMinutesLeft(60, recipe), 1);
  });

  test('the recipe ends within the 15 minutes npm start promises, with room for the test evaluation', () => {
    assert.ok(START_JOB.jobMinutes < 15, String(START_JOB.jobMinutes));
    assert.ok(trainingMinutesLeft(2, START_JOB) > 10);
  });
});
