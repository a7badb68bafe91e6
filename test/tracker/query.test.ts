import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rowsToCsv } from '../../src/tracker/query';

describe('rowsToCsv', () => {
  test('text a spreadsheet would run as a formula gets a leading quote; numbers and other text do not', () => {
    const rows = [
      { name: '=HYPERLINK("http://evil","click")', note: '@SUM(A1)', tag: '+cmd', lr: '-2+3', tabbed: '\t=1', plain: 'crnn, big', loss: -0.5, best: -Infinity, ok: true },
    ];
    const [header, line] = rowsToCsv(rows).trim().split('\n');
    assert.equal(header, 'name,note,tag,lr,tabbed,plain,loss,best,ok');
    assert.equal(line, `"'=HYPERLINK(""http://evil"",""click"")",'@SUM(A1),'+cmd,'-2+3,'\t=1,"crnn, big",-0.5,-Infinity,true`);
    assert.equal(rowsToCsv(rows, { raw: true }).trim().split('\n')[1], `"=HYPERLINK(""http://evil"",""click"")",@SUM(A1),+cmd,-2+3,\t=1,"crnn, big",-0.5,-Infinity,true`);
  });
});
