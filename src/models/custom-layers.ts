/**
 * Importing this module registers every layer class glyphlab defines with tfjs's serialisation,
 * so that a model JSON that uses them can be rebuilt anywhere (a replica's worker thread, a
 * loaded checkpoint).
 */
import './layers/batch-norm';
import './layers/fused-bidirectional';
import './layers/lean-conv2d';
import './layers/sample-dropout';
import './vgg19-crnn';
