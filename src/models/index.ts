/**
 * Model builders, one per family (CRNN, VGG19-CRNN, MLP, LeNet), saving and loading model
 * folders, pretrained weights from Keras and tfjs files, freezing layers, and uint8 quantisation.
 *
 * The public names of models/, by module; a notebook imports them from
 * `./glyphlab/models/index`. The entry points most work starts from are also in src/index.ts.
 */

// crnn: the custom CRNN and its sequence head
export {
  buildCrnn,
  resolveCrnnOptions,
  crnnFeatureSize,
  defaultPools,
  sequenceHead,
  type CrnnOptions,
  type CrnnConfig,
  type SequenceHeadConfig,
} from './crnn';

// vgg19-crnn: the VGG19 transfer model and its ImageNet weights
export {
  buildVgg19Crnn,
  createVgg19Crnn,
  loadVgg19Weights,
  resolveVgg19CrnnOptions,
  vgg19Preprocess,
  vgg19WeightsLocation,
  defaultVgg19WeightsPath,
  Vgg19Preprocess,
  VGG19_BLOCKS,
  VGG19_CONV_LAYERS,
  VGG19_WEIGHTS_FILE,
  VGG19_BGR_MEAN,
  type Vgg19CrnnOptions,
  type Vgg19CrnnConfig,
  type CreateVgg19CrnnOptions,
  type Vgg19CrnnBuild,
  type LoadVgg19WeightsOptions,
  type Vgg19WeightsReport,
  type Vgg19WeightsLocation,
} from './vgg19-crnn';

// mlp: the multilayer perceptron for characters
export { buildMlp, resolveMlpOptions, type MlpOptions, type MlpConfig } from './mlp';

// lenet: the LeNet-5-style CNN for characters
export { buildLenet, resolveLenetOptions, type LenetOptions, type LenetConfig } from './lenet';

// io: saving and loading model folders (checked by their manifest)
export { saveModel, loadModel, loadOptimizerState, readModelMeta, type SaveModelOptions } from './io';

// keras-h5: weights from Keras HDF5 files and tfjs folders
export {
  readKerasH5Weights,
  readTfjsLayersWeights,
  readLayerWeights,
  setLayerWeights,
  type LayerWeightsFile,
  type NamedWeight,
  type ReadLayerWeightsOptions,
} from './keras-h5';

// freeze: freezing layers for two-phase fine-tuning
export { trainableLayerNames, setTrainable, layersWithWeights, convolutionAndHeadLayers, SEQUENCE_HEAD_START, type TrainableLayerNamesOptions } from './freeze';

// transfer: starting a model from another's weights
export { transferWeights, weightDifferences, type TransferReport, type TransferWeightsOptions } from './transfer';

// quantize: uint8/uint16 weight quantisation
export {
  quantizeModel,
  quantizeValues,
  saveQuantizedModel,
  loadQuantizedModel,
  loadQuantizedArtifacts,
  type QuantizationDtype,
  type QuantizeOptions,
  type QuantizedArtifacts,
  type SavedQuantizedModel,
} from './quantize';
