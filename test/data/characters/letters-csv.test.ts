import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LETTER_CLASSES, loadLettersCsv } from '../../../src/data/characters/letters-csv';
import { DataError } from '../../../src/errors';

async function withCsv(text: string, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'glyphlab-letters-'));
  try {
    const path = join(dir, 'letters.csv');
    writeFileSync(path, text);
    await fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A row of label then 784 pixels: pixel i = (i + label) % 256. */
function row(label: number | string, pixels = 784): string {
  return [label, ...Array.from({ length: pixels }, (_, i) => (i + Number(label || 0)) % 256)].join(',');
}

describe('loadLettersCsv', () => {
  test('labels 0-25 become A-Z and pixels scale to [0, 1]', async () => {
    await withCsv(`${row(0)}\n${row(25)}\r\n${row(7)}\n`, async (path) => {
      const letters = await loadLettersCsv(path);
      assert.deepEqual([...letters.labels], [0, 25, 7]);
      assert.equal(letters.classes[25], 'Z');
      assert.deepEqual(LETTER_CLASSES.slice(0, 3), ['A', 'B', 'C']);
      assert.ok(Math.abs(letters.images[784 + 10]! - 35 / 255) < 1e-6, 'row 2 pixel 10 = (10 + 25) / 255');
    });
  });

  test('limit stops reading early; header: true skips the first line', async () => {
    await withCsv(`label,${Array.from({ length: 784 }, (_, i) => `p${i}`).join(',')}\n${row(1)}\n${row(2)}\n${row(3)}\n`, async (path) => {
      await assert.rejects(loadLettersCsv(path), /letters\.csv:1: label "label" in field 1 is not an integer in 0-25 \(A-Z\) \(if this line is a header, pass header: true\)/);
      const two = await loadLettersCsv(path, { header: true, limit: 2 });
      assert.deepEqual([...two.labels], [1, 2]);
    });
  });

  test('a wrong row length names the file and line', async () => {
    await withCsv(`${row(0)}\n${row(1, 783)}\n`, async (path) => {
      await assert.rejects(loadLettersCsv(path), (e: unknown) => e instanceof DataError && /letters\.csv:2: 784 fields; expected 785 \(a label then 784 pixel values of a 28x28 image\)/.test(e.message));
    });
  });

  test('labels out of range and non-numeric pixels name the line and field', async () => {
    await withCsv(`${row(26)}\n`, async (path) => {
      await assert.rejects(loadLettersCsv(path), /letters\.csv:1: label "26" in field 1 is not an integer in 0-25/);
    });
    const bad = row(3).split(',');
    bad[100] = 'x7';
    await withCsv(`${row(1)}\n${bad.join(',')}\n`, async (path) => {
      await assert.rejects(loadLettersCsv(path), /letters\.csv:2: pixel value "x7" in field 101 is not a number in 0-255/);
    });
    await withCsv(`${row(1).replace(/,5,/, ',300,')}\n`, async (path) => {
      await assert.rejects(loadLettersCsv(path), /pixel value "300" in field \d+ is not a number in 0-255/);
    });
  });

  test('missing and empty files are DataErrors', async () => {
    await assert.rejects(loadLettersCsv('/nonexistent/letters.csv'), /letters\.csv: letters CSV not found/);
    await withCsv('\n\n', async (path) => {
      await assert.rejects(loadLettersCsv(path), /no data rows/);
    });
  });

  test('a FIFO is refused before it is opened for reading, and a file without line breaks before it is gathered into one string', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'glyphlab-letters-'));
    try {
      const fifo = join(dir, 'pipe.csv');
      execFileSync('mkfifo', [fifo]);
      await assert.rejects(loadLettersCsv(fifo), (e: unknown) => e instanceof DataError && e.message === `${fifo} is a FIFO (named pipe), not a regular file: expected a letters CSV`);
      // Issue #37 item 14: a file of one endless line. 20 KB of it stands in for gigabytes.
      const endless = join(dir, 'endless.csv');
      writeFileSync(endless, `${row(1)}\n${'7,'.repeat(10_000)}`);
      await assert.rejects(loadLettersCsv(endless), (e: unknown) => e instanceof DataError && /endless\.csv:2: a line of more than 7304 characters; a row of a 28x28 image \(a label and 784 pixel values\) is far shorter/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
