/**
 * A spec in words, for the lines the CLI and `npm start` print before a run, and the defaults
 * `glyphlab train --help` states, read from each recipe's resolved spec.
 */
import type { EquationField } from './fields';
import { builderConfig, EQUATION_RECIPE_NAMES, type EquationRunSpec } from './options';
import { type EquationMachine, resolveEquationRunSpec } from './resolve';

/**
 * One line: the model and how it trains, e.g. `crnn 32x150, conv 16-32-64-96 (strided first
 * block), 2x BiGRU(128), dropout 0; adam 0.003 warmup-cosine over 12.5 minutes, batch 32`.
 */
export function describeEquationSpec(spec: EquationRunSpec): string {
  const { training } = spec;
  const head = builderConfig(spec)!;
  const conv = spec.crnn ? `conv ${spec.crnn.convFilters.join('-')}${spec.crnn.stridedStem ? ' (strided first block)' : ''}` : `VGG19 conv${spec.vgg19!.config.filterDivisor > 1 ? ` / ${spec.vgg19!.config.filterDivisor}` : ''} (${spec.vgg19!.weights} weights)`;
  const rnn = `${head.rnnLayers}x Bi${head.rnn.toUpperCase()}(${head.rnnUnits})`;
  const budget = training.minutes !== null ? `over ${training.minutes} minutes` : `for ${training.epochs} epochs`;
  const decay = training.weightDecay > 0 ? `, weight decay ${training.weightDecay}` : '';
  const init = spec.init ? `; from ${spec.init.from}${spec.init.freezeEpochs > 0 ? `, convolutions frozen ${spec.init.freezeEpochs} epoch${spec.init.freezeEpochs === 1 ? '' : 's'}` : ''}` : '';
  return `${spec.model} ${head.inputHeight}x${head.inputWidth}, ${conv}, ${rnn}, dropout ${head.dropout}; ${training.optimizer} ${training.learningRate} ${training.schedule} ${budget}, batch ${training.batchSize}${decay}${init}`;
}

/** Each recipe's spec and the VGG19-CRNN's reference spec, resolved once per machine: `--help` reads every field from them. */
const specsByMachine = new Map<EquationMachine | undefined, { recipes: (readonly [string, EquationRunSpec])[]; vgg19Reference: EquationRunSpec }>();

function recipeSpecs(machine: EquationMachine | undefined) {
  let specs = specsByMachine.get(machine);
  if (!specs) {
    specs = {
      recipes: EQUATION_RECIPE_NAMES.map((recipe) => [recipe, resolveEquationRunSpec({ dataDir: '.', recipe }, machine)] as const),
      vgg19Reference: resolveEquationRunSpec({ dataDir: '.', model: 'vgg19-crnn', recipe: 'reference' }, machine),
    };
    specsByMachine.set(machine, specs);
  }
  return specs;
}

/**
 * The default of `field` in each recipe, for `--help`: `default 32` when all agree, else
 * `quick 0.003, long 0.003, reference 0.001`. The VGG19-CRNN's fields read the reference recipe
 * of that model.
 */
export function describeFieldDefault(field: EquationField, machine?: EquationMachine): string {
  if (field.defaultText !== undefined) return field.defaultText;
  const vgg19 = field.models?.length === 1 && field.models[0] === 'vgg19-crnn';
  const { recipes, vgg19Reference } = recipeSpecs(machine);
  const specs = vgg19 ? [['vgg19-crnn', vgg19Reference] as const] : recipes;
  const values = specs.map(([name, spec]) => [name, field.inSpec(spec)] as const).filter(([, value]) => value !== undefined);
  if (values.length === 0) return 'no default';
  const text = (value: unknown): string => (typeof value === 'boolean' ? (value ? 'on' : 'off') : String(value));
  const distinct = new Set(values.map(([, value]) => text(value)));
  if (distinct.size === 1 && !vgg19) return `default ${text(values[0]![1])}`;
  return values.map(([name, value]) => `${name} ${text(value)}`).join(', ');
}
