import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { DEFAULT_OUTPUT_WIDTH, elide, outputWidth, printable, printableJson, printableLines, textForStream, textTable } from '../../src/cli/table';

/** Every character that acts on a terminal or reorders what it shows, raw. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/** The file name of the hostile labels file in issue #37: a title change, a bell, a screen wipe, a right-to-left override. */
const HOSTILE = 'images/\u001b]0;pwn\u0007\u001b[2J\u202eevil.png';

describe('printable', () => {
  test('writes control, DEL, C1 and every bidirectional control as a visible escape', () => {
    assert.equal(printable(HOSTILE), 'images/\\x1b]0;pwn\\x07\\x1b[2J\\u202eevil.png');
    const controls = ['\u0000', '\u0007', '\u001b', '\u007f', '\u0085', '\u009b', '\u200e', '\u200f', '\u061c', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
    for (const ch of controls) {
      const shown = printable(`a${ch}b`);
      assert.doesNotMatch(shown, RAW, `U+${ch.charCodeAt(0).toString(16)}`);
      assert.match(shown, /^a\\(x[0-9a-f]{2}|u[0-9a-f]{4})b$/);
    }
    assert.equal(printable('tab\there\r\nline'), 'tab\\there\\r\\nline');
  });

  test('leaves ordinary text, other scripts and already escaped text alone', () => {
    for (const text of ['val_accuracy 99.5%', 'Ölçüm — 測定 — قياس', '＝1+1', printable(HOSTILE)]) assert.equal(printable(text), text);
  });

  test('printableLines keeps the line breaks of a message and escapes the rest', () => {
    assert.equal(printableLines(`row 2 (${HOSTILE}): missing\n    ^`), 'row 2 (images/\\x1b]0;pwn\\x07\\x1b[2J\\u202eevil.png): missing\n    ^');
  });

  test('textTable escapes its cells', () => {
    assert.doesNotMatch(textTable(['name'], [[HOSTILE]]), RAW);
  });
});

describe('printableJson', () => {
  test('writes what JSON.stringify leaves raw as \\u escapes: valid JSON of the same value', () => {
    const value = { name: `run\u202e\u2066x\u007f\u0085\u061c\u2028`, file: HOSTILE, n: [1, 2] };
    for (const json of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
      assert.match(json, /\u202e/, 'JSON.stringify alone keeps the override raw');
      const safe = printableJson(json);
      assert.doesNotMatch(safe, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
      assert.ok(safe.includes('run\\u202e\\u2066x\\u007f\\u0085\\u061c\\u2028'), safe);
      assert.deepEqual(JSON.parse(safe), value);
    }
  });
});

describe('textForStream', () => {
  test('exact for a file or pipe, escaped line by line for a terminal', () => {
    const csv = `id,name\nr1,${HOSTILE}\n`;
    const pipe = new PassThrough();
    assert.equal(textForStream(pipe, csv), csv);
    const terminal = Object.assign(new PassThrough(), { isTTY: true });
    const shown = textForStream(terminal, csv);
    assert.equal(shown, `id,name\nr1,${printable(HOSTILE)}\n`);
    assert.doesNotMatch(shown, RAW);
  });
});

describe('fitting tables to a width', () => {
  test('elide cuts in the middle by default, keeping both ends, or at the end; text that fits is unchanged', () => {
    assert.equal(elide('/data/experiments/equations', 16), '/data/ex\u2026uations');
    assert.equal(elide('/data/experiments/equations', 16).length, 16);
    assert.equal(elide('a long run note', 8, 'end'), 'a long \u2026');
    assert.equal(elide('short', 5), 'short');
    assert.equal(elide('abc', 1), '\u2026');
  });

  test('textTable narrows the widest elidable column until the table fits, never the others; without room it stays wider', () => {
    const rows = [['20261206-083449-c262b8', 'a-rather-long-run-name-indeed', '/tmp/fresh/data/equations']];
    const fitted = textTable(['id', 'name', 'data'], rows, { width: 60, elidable: [1, 2] });
    const lines = fitted.split('\n');
    assert.ok(lines.every((line) => line.length <= 60), fitted);
    assert.ok(lines[1]!.startsWith('20261206-083449-c262b8  '), 'the id is never cut');
    assert.match(lines[1]!, /  a-rather\u2026e-indeed  /);
    assert.match(lines[1]!, /  \/tmp\/fre\u2026quations$/);
    assert.equal(textTable(['id', 'name'], rows.map((r) => r.slice(0, 2)), { width: 10, elidable: [1] }).split('\n')[1], '20261206-083449-c262b8  a-ra\u2026eed', 'at most down to 8 characters');
    assert.equal(textTable(['id', 'name'], rows.map((r) => r.slice(0, 2))), `id                      name\n${rows[0]![0]}  ${rows[0]![1]}`);
  });

  test('outputWidth is the terminal width on a terminal, 120 otherwise', () => {
    assert.equal(outputWidth(Object.assign(new PassThrough(), { isTTY: true, columns: 80 })), 80);
    assert.equal(outputWidth(Object.assign(new PassThrough(), { isTTY: true })), DEFAULT_OUTPUT_WIDTH);
    assert.equal(outputWidth(Object.assign(new PassThrough(), { columns: 80 })), 120);
    assert.equal(DEFAULT_OUTPUT_WIDTH, 120);
  });
});
