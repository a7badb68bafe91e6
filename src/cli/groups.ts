/** Every command group of the `glyphlab` CLI, in the order `--help` lists them. */
import type { CommandGroup } from './command';
import { backendGroup } from './backend';
import { startGroup } from './start';
import { dataGroup } from './data';
import { runsGroup } from './runs';
import { notebookGroup } from './notebook';

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  startGroup,
  backendGroup,
  dataGroup,
  runsGroup,
  notebookGroup,
];
