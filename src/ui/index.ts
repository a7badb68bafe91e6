/**
 * `glyphlab ui`: a local web app over the experiment store, read-only, that updates while runs
 * train. The server, what its pages show, and the live watch of the store.
 *
 * The public names of ui/, by module; a notebook imports them from `./glyphlab/ui/index`.
 */

// server: the UI's HTTP server
export { startUiServer, DEFAULT_UI_PORT, type UiServer, type UiServerOptions } from './server';

// access: the loopback check and the token
export { isLoopbackHost, generateToken, checkToken } from './access';

// views: the table of runs and a run's page
export { runsTable, runPage, type RunsTable, type RunsTableOptions, type RunsTableRow, type RunPage, type CellValue } from './views';

// charts: the figures the pages draw
export { curvesFigure, paramsFigure, MAX_OVERLAID_RUNS, type CurvesFigureOptions, type ParamsFigureOptions } from './charts';

// misreads: a run's misread images
export { runMisreads, misreadImage, MAX_MISREAD_IMAGE_BYTES, type Misread, type RunMisreads } from './misreads';

// live: watching the store for changes
export { watchStore, type StoreChange, type StoreWatch, type WatchStoreOptions } from './live';
