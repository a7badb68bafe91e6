/** Every command group of the `glyphlab` CLI, in the order `--help` lists them. */
import type { CommandGroup } from './command';
import { backendGroup } from './backend';
import { startGroup } from './start';
import { trainGroup } from './train';
import { evalGroup } from './eval';
import { predictGroup } from './predict';
import { dataGroup } from './data';
import { runsGroup } from './runs';
import { storeGroup } from './store';
import { readersGroup } from './readers';
import { notebookGroup } from './notebook';
import { dashboardGroup } from './dashboard';
import { uiGroup } from './ui';
import { classifyGroup } from './classify';
import { centerLossGroup } from './center-loss';
import { sweepGroup, workerGroup } from './sweep';

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  startGroup,
  backendGroup,
  dataGroup,
  trainGroup,
  evalGroup,
  predictGroup,
  runsGroup,
  storeGroup,
  readersGroup,
  sweepGroup,
  workerGroup,
  notebookGroup,
  dashboardGroup,
  uiGroup,
  classifyGroup,
  centerLossGroup,
];
