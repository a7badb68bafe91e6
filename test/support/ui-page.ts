/**
 * Expressions that read the state of a `glyphlab ui` page (src/ui/assets/app.js), for the browser
 * test and the screenshot script to evaluate in it: which runs the table lists, how many points a
 * chart draws for a run, whether the images of a run's misreads have loaded.
 */

/** The run id of each row of the table, in order. */
export const TABLE_RUN_IDS = `[...document.querySelectorAll('#runs tbody tr')].map((tr) => tr.dataset.id)`;

/**
 * The points chart `chartId` draws for run `runId`: of its smoothed (or only) lines, not the faint
 * raw ones under smoothed lines, whose points are the same.
 */
export function chartPoints(chartId: string, runId: string): string {
  return `(document.getElementById(${JSON.stringify(chartId)}).data || []).filter((t) => t.legendgroup === ${JSON.stringify(runId)} && !/\\(raw\\)$/.test(t.name)).reduce((n, t) => n + t.x.length, 0)`;
}

/** The natural widths of the misread images on a run's page once `count` of them have all loaded, else null. */
export function loadedMisreadWidths(count: number): string {
  return `(() => { const images = [...document.querySelectorAll('#misreads img')]; return images.length === ${count} && images.every((i) => i.complete && i.naturalWidth > 0) ? images.map((i) => i.naturalWidth) : null; })()`;
}
