import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isPostgresUrl, redactSecret, redactUrl, redactUrlsIn } from '../../src/util/store-target';
import { databasePath, runsDirFor } from '../../src/util/paths';

describe('store targets', () => {
  test('postgres:// and postgresql:// URLs name a server; anything else is a file', () => {
    assert.ok(isPostgresUrl('postgres://ana@db.lab/glyphlab'));
    assert.ok(isPostgresUrl(' POSTGRESQL://db/g'));
    assert.ok(!isPostgresUrl('experiments/glyphlab.db'));
    assert.ok(!isPostgresUrl('/tmp/postgres://x.db'));
  });

  test('redactUrl shows a password as ***, also one holding @, : or \' and a password= parameter; other parts stay', () => {
    assert.equal(redactUrl('postgres://ana:s3cret@db.lab:5432/glyphlab?sslmode=require'), 'postgres://ana:***@db.lab:5432/glyphlab?sslmode=require');
    assert.equal(redactUrl("postgresql://ana:p@ss:w'rd@db/g"), 'postgresql://ana:***@db/g');
    assert.equal(redactUrl('postgres://db/g?user=ana&password=s3cret&sslmode=disable'), 'postgres://db/g?user=ana&password=***&sslmode=disable');
    assert.equal(redactUrl('postgres://ana@db/g'), 'postgres://ana@db/g');
    assert.equal(redactUrl('experiments/a:b@c.db'), 'experiments/a:b@c.db');
  });

  test('redactUrlsIn finds URLs in free text (a command line, JSON) and redacts each', () => {
    assert.equal(redactUrlsIn('glyphlab train --db postgres://ana:s3cret@db/g --epochs 3'), 'glyphlab train --db postgres://ana:***@db/g --epochs 3');
    assert.equal(redactUrlsIn(`{"db":"postgres://a:x'y@h/d","b":"postgresql://c:z@h2/e"}`), '{"db":"postgres://a:***@h/d","b":"postgresql://c:***@h2/e"}');
    assert.equal(redactUrlsIn('no url here: a:b@c'), 'no url here: a:b@c');
  });

  test('redactSecret removes the password, raw and decoded, from text a server or library wrote', () => {
    const url = 'postgres://u:%40pw1@h/d';
    assert.equal(redactSecret(`could not connect to ${url} as u with @pw1`, url), 'could not connect to postgres://u:***@h/d as u with ***');
  });

  test('GLYPHLAB_DB may be a URL, returned as given; its run folders go to the experiments folder', () => {
    const url = 'postgres://ana@db.lab/glyphlab';
    assert.equal(databasePath({ GLYPHLAB_DB: ` ${url} ` }), url);
    assert.equal(runsDirFor(url, { GLYPHLAB_EXPERIMENTS_DIR: '/data/experiments' }), '/data/experiments/runs');
    assert.equal(runsDirFor('/data/team/glyphlab.db'), '/data/team/runs');
  });
});
