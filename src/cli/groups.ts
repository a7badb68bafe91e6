/** Every command group of the `glyphlab` CLI, in the order `--help` lists them. */
import type { CommandGroup } from './command';
import { backendGroup } from './backend';
import { startGroup } from './start';

export const COMMAND_GROUPS: readonly CommandGroup[] = [
  startGroup,
  backendGroup,
];
