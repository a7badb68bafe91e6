import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonSafe } from '../../src/util/json';

describe('jsonSafe', () => {
  test('keeps NaN, the infinities and bigints as strings, where plain JSON writes null or throws', () => {
    assert.equal(JSON.stringify({ loss: Number.NaN, best: Number.POSITIVE_INFINITY, worst: Number.NEGATIVE_INFINITY, n: 2n, ok: 1.5 }, jsonSafe), '{"loss":"NaN","best":"Infinity","worst":"-Infinity","n":"2","ok":1.5}');
    assert.equal(JSON.stringify({ loss: Number.NaN }), '{"loss":null}', 'what it guards against');
  });
});
