/**
 * The run spec of the equation reader: the user's options, the named recipes, the one function
 * that resolves them into a complete spec, and reading a recorded run's spec back.
 */
export { builderConfig, EQUATION_RECIPE_NAMES, EQUATION_SPEC_VERSION, type EquationDataSpec, type EquationInitSpec, type EquationRecipeName, type EquationRecipeOptions, type EquationRunOptions, type EquationRunSpec, type EquationSchedule, type EquationTrainingSpec, type ImageCheck, type Vgg19RunOptions, type Vgg19RunSpec } from './options';
export { defaultRecipeName, EQUATION_RECIPES, type EquationRecipe, getRecipe, LONG_RECIPE_FROM_MINUTES } from './recipes';
export { currentMachine, EQUATION_RUN_BASE, type EquationMachine, type EquationSpecRevision, resolveEquationRunSpec, reviseEquationRunSpec } from './resolve';
export { EQUATION_FIELDS, type EquationField, fieldOf } from './fields';
export { isEquationRunSpec, readEquationRunSpec, recordedData } from './recorded';
export { checkStepFits, stepBytesAtLeast, WASM_HEAP_BYTES } from './memory';
export { describeEquationSpec, describeFieldDefault } from './describe';
