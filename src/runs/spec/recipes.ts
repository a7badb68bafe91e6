/**
 * The named recipes of the equation reader, defined once: `npm start`, `glyphlab train`,
 * the notebooks and the benchmarks take them from here, and `glyphlab train --help` prints them.
 * A recipe sets what trains the model; the user's options override any of its fields, and a
 * run records the recipe's name with the resolved values. Why each value is what it is, with the
 * runs that chose it: docs/recipes.md.
 */
import { ConfigError } from '../../errors';
import { EQUATION_RECIPE_NAMES, type EquationRecipeName, type EquationRecipeOptions, type EquationRunOptions } from './options';

/** A named recipe. */
export interface EquationRecipe {
  name: EquationRecipeName;
  /** One line for help texts. */
  summary: string;
  options: Readonly<EquationRecipeOptions>;
}

/**
 * The quick recipe's model: a CRNN at 32x150 (the 300x64 images' own aspect ratio: a narrower
 * input cuts the end of long equations off), conv 16-32-64-96, two bidirectional GRU layers of
 * 128, batch-norm momentum 0.9 (a few thousand steps: the moving statistics must keep up for
 * inference).
 */
const FAST_CRNN = { inputHeight: 32, inputWidth: 150, convFilters: [16, 32, 64, 96], rnn: 'gru', rnnUnits: 128, rnnLayers: 2, batchNormMomentum: 0.9 } as const;

/** Adam with decoupled weight decay 0.05 at peak 3e-3, a 10% warm-up then a cosine over the wall-clock budget (docs/recipes.md, steps 3-7). */
const FAST_TRAINING = { batchSize: 32, learningRate: 3e-3, weightDecay: 0.05, schedule: 'warmup-cosine', warmup: 0.1, epochs: 1000, earlyStopping: false } as const;

/** Budgets from this many minutes up train the long recipe by default. */
export const LONG_RECIPE_FROM_MINUTES = 30;

export const EQUATION_RECIPES: Readonly<Record<EquationRecipeName, EquationRecipe>> = {
  quick: {
    name: 'quick',
    summary: "npm start's: 32x150 CRNN, strided first block, 2x BiGRU(128), no dropout, AdamW 3e-3 warm-up cosine over 12.5 minutes",
    options: {
      model: 'crnn',
      // The first block downsamples in its convolution: about 8% more steps in the budget (step 8);
      // no dropout: +0.4 and +1.0 validation points in two paired screens at equal time (step 9).
      crnn: { ...FAST_CRNN, convFilters: [...FAST_CRNN.convFilters], stridedStem: true, dropout: 0 },
      ...FAST_TRAINING,
      minutes: 12.5,
    },
  },
  long: {
    name: 'long',
    summary: "bench:accuracy's: the quick model with a pooled first block and dropout 0.2, the same optimiser over 50 minutes",
    options: {
      model: 'crnn',
      crnn: { ...FAST_CRNN, convFilters: [...FAST_CRNN.convFilters], stridedStem: false, dropout: 0.2 },
      ...FAST_TRAINING,
      minutes: 50,
    },
  },
  reference: {
    name: 'reference',
    summary: "the reference implementation's: 64x300 CRNN, conv 32-64-128-128, 2x BiLSTM(128), Adam 1e-3 halved on plateaus, 10 epochs",
    options: {
      model: 'crnn',
      // The builders' own defaults are the reference implementation's architectures.
      crnn: {},
      epochs: 10,
      learningRate: 1e-3,
      weightDecay: 0,
      schedule: 'plateau',
      minutes: null,
      earlyStopping: { patience: 8 },
    },
  },
};

/**
 * The recipe `options` start from: the one they name, else the best known for their budget
 * ('quick' below {@link LONG_RECIPE_FROM_MINUTES} minutes or without a budget, 'long' from there),
 * and 'reference' for the VGG19-CRNN (the fast recipes are tuned for the custom CRNN).
 *
 * @example
 * defaultRecipeName({ dataDir: 'd' });                 // 'quick'
 * defaultRecipeName({ dataDir: 'd', minutes: 60 });    // 'long'
 */
export function defaultRecipeName(options: Pick<EquationRunOptions, 'recipe' | 'model' | 'minutes'>): EquationRecipeName {
  if (options.recipe !== undefined) return getRecipe(options.recipe).name;
  if (options.model === 'vgg19-crnn') return 'reference';
  return options.minutes !== undefined && options.minutes !== null && options.minutes >= LONG_RECIPE_FROM_MINUTES ? 'long' : 'quick';
}

/** The recipe called `name`; an unknown name is a ConfigError listing the recipes. */
export function getRecipe(name: string): EquationRecipe {
  const recipe = (EQUATION_RECIPES as Readonly<Record<string, EquationRecipe>>)[name];
  if (!recipe) throw new ConfigError(`recipe ${JSON.stringify(name)} is not one of: ${EQUATION_RECIPE_NAMES.join(', ')}`);
  return recipe;
}
