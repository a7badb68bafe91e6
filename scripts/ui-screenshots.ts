/**
 * Screenshots of `glyphlab ui` in headless Chromium, for notes and the README: the table of runs,
 * the per-step curves of 3+ runs overlaid, a run's misread images, and a live run before and after
 * its curve grew (without a reload of the page). Each is taken once the page shows what it should
 * (rows listed, every chosen run drawn, every image loaded, more points than before), the same
 * conditions test/ui/browser.test.ts asserts.
 *
 * Run:
 *   node --import tsx scripts/ui-screenshots.ts OUT_DIR [--db FILE] [--runs ID,ID,ID] [--run ID] [--live ID] [--live-timeout S]
 *   node --import tsx scripts/ui-screenshots.ts OUT_DIR --demo
 *
 * On a store (--db, else GLYPHLAB_DB or experiments/glyphlab.db), opened read-only: the curves of
 * --runs (else the 4 newest finished runs that recorded batch_loss), the misreads of --run (else
 * the newest run whose eval report lists some), and the live run --live (else the newest running
 * run: start a training first, e.g. `npx glyphlab train --data data/equations` in another
 * terminal; without one the live shots are skipped). --demo records a made-up store with a run
 * that grows while the page watches, in a temp folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type RunRecord, listRuns } from '../src/tracker/query';
import { closeStore, openStore } from '../src/tracker/store';
import { runMisreads } from '../src/ui/misreads';
import { startUiServer } from '../src/ui/server';
import { databasePath } from '../src/util/paths';
import { type HeadlessPage, openPage } from '../test/support/headless-page';
import { TABLE_RUN_IDS, chartPoints, loadedMisreadWidths } from '../test/support/ui-page';
import { type LiveRun, fillUiStore, startLiveRun } from '../test/support/ui-store';

const USAGE = 'usage: node --import tsx scripts/ui-screenshots.ts OUT_DIR [--db FILE] [--runs ID,ID,ID] [--run ID] [--live ID] [--live-timeout S] | OUT_DIR --demo';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    db: { type: 'string' },
    runs: { type: 'string' },
    run: { type: 'string' },
    live: { type: 'string' },
    'live-timeout': { type: 'string' },
    demo: { type: 'boolean' },
  },
});
const outDir = positionals[0];
if (outDir === undefined || positionals.length > 1) {
  console.error(USAGE);
  process.exit(2);
}
const liveTimeoutS = Number(values['live-timeout'] ?? 600);
if (!(liveTimeoutS > 0)) {
  console.error(`--live-timeout ${values['live-timeout']} is not valid: expected seconds > 0. ${USAGE}`);
  process.exit(2);
}

/** What the shots show, chosen from the store unless given. */
interface Subjects {
  curves: string[];
  misreads: string | undefined;
  live: string | undefined;
}

function chooseSubjects(db: string): Subjects {
  const store = openStore(db, { readonly: true });
  try {
    const runs = listRuns(store);
    const hasSteps = (run: RunRecord): boolean => run.metrics.batch_loss !== undefined;
    const curves = values.runs?.split(',').filter(Boolean) ?? runs.filter((r) => r.status === 'finished' && hasSteps(r)).slice(0, 4).map((r) => r.id);
    const misreads = values.run ?? runs.find((r) => runMisreads(store, r.id).misreads.length > 0)?.id;
    const live = values.live ?? runs.find((r) => r.status === 'running' && hasSteps(r))?.id;
    return { curves, misreads, live };
  } finally {
    closeStore(store);
  }
}

/** Writes `png` to OUT_DIR/`name` and says so. */
function save(name: string, png: Buffer, what: string): void {
  const path = join(outDir!, name);
  writeFileSync(path, png);
  console.log(`${path}: ${what}`);
}

async function shootTable(page: HeadlessPage, url: string): Promise<void> {
  await page.goto(url);
  const count = await page.waitFor<number>(`${TABLE_RUN_IDS}.length`, 'the table');
  await page.waitFor(`document.getElementById('live').dataset.state === 'live'`, 'the live stream');
  save('table.png', await page.screenshot(), `the table of runs (${count} rows)`);
}

async function shootCurves(page: HeadlessPage, url: string, runIds: readonly string[]): Promise<void> {
  if (runIds.length < 3) console.warn(`only ${runIds.length} runs with per-step curves (batch_loss) to overlay; give --runs ID,ID,ID for 3 or more`);
  if (runIds.length === 0) return;
  await page.goto(`${url}#sel=${runIds.join(',')}&per=step&keys=batch_loss`);
  const drawn = runIds.map((id) => chartPoints('curves-chart', id)).join(' && ');
  await page.waitFor(drawn, 'every chosen run drawn');
  await page.evaluate(`document.getElementById('curves-section').scrollIntoView()`);
  save('curves.png', await page.screenshot({ selector: '#curves-section' }), `batch_loss per step of ${runIds.length} runs overlaid`);
}

async function shootMisreads(page: HeadlessPage, url: string, runId: string | undefined, db: string): Promise<void> {
  if (runId === undefined) {
    console.warn('no run lists misread images (an eval report with errors): give --run ID');
    return;
  }
  const store = openStore(db, { readonly: true });
  const count = runMisreads(store, runId).misreads.length;
  closeStore(store);
  await page.goto(`${url}#run=${runId}`);
  await page.waitFor(`document.getElementById('run-view').dataset.loads`, 'the run page');
  // Images load lazily, as they come into view: bring them all in.
  await page.evaluate(`document.getElementById('misreads').scrollIntoView({ block: 'end' })`);
  await page.waitFor(loadedMisreadWidths(count), `${count} misread images`, 120_000);
  save('misreads.png', await page.screenshot({ selector: '#misreads-section', maxHeight: 2400 }), `run ${runId}: ${count} misread images`);
}

async function shootLive(page: HeadlessPage, url: string, runId: string | undefined, grow: (() => void) | undefined): Promise<void> {
  if (runId === undefined) {
    console.warn('no run is training (running, with batch_loss): start one, or give --live ID; the live shots are skipped');
    return;
  }
  await page.goto(`${url}#where=${encodeURIComponent(`id = "${runId}"`)}&sel=${runId}&per=step&keys=batch_loss`);
  const before = await page.waitFor<number>(chartPoints('curves-chart', runId), 'the live curve');
  await page.evaluate('window.notReloaded = true');
  save('live-before.png', await page.screenshot(), `live run ${runId}: ${before} points`);
  grow?.();
  const after = await page.waitFor<number>(`(() => { const n = ${chartPoints('curves-chart', runId)}; return n > ${before} ? n : 0; })()`, 'the live curve to grow', liveTimeoutS * 1000);
  // Let the table's row (heartbeat, duration, status) catch up with the chart.
  await page.waitFor('window.notReloaded === true', 'the same page, not reloaded');
  save('live-after.png', await page.screenshot(), `live run ${runId}: ${after} points, grown without a reload`);
}

async function main(): Promise<void> {
  mkdirSync(outDir!, { recursive: true });
  const demoDir = values.demo ? mkdtempSync(join(tmpdir(), 'glyphlab-ui-demo-')) : undefined;
  let live: LiveRun | undefined;
  let growth: NodeJS.Timeout | undefined;
  try {
    const db = demoDir ? (await fillUiStore(demoDir)).file : resolve(values.db ?? databasePath());
    if (demoDir) live = startLiveRun(db, 'live', 60);
    const subjects = chooseSubjects(db);
    if (live) subjects.live = live.id;
    const ui = await startUiServer({ db, port: 0, pollMs: 500 });
    const page = await openPage({ width: 1400, height: 950 });
    try {
      await shootTable(page, ui.url);
      await shootCurves(page, ui.url, subjects.curves);
      await shootMisreads(page, ui.url, subjects.misreads, db);
      await shootLive(page, ui.url, subjects.live, live ? () => (growth = setInterval(() => live!.addSteps(15), 1000)) : undefined);
      const errors = page.errors();
      if (errors.length > 0) {
        console.error(`the page logged errors:\n${errors.map((e) => `  ${e.text}`).join('\n')}`);
        process.exitCode = 1;
      }
    } finally {
      await page.close();
      await ui.close();
    }
  } finally {
    clearInterval(growth);
    live?.finish();
    if (demoDir) rmSync(demoDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
