/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * number (two zero bytes, a type code, the number of dimensions), one big-endian uint32 per
 * dimension, then the values, big-endian. Files may be gzipped (`.gz`), as distributed.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:buffer';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { DataError, errorMessage } from '../../errors';
import { checkImageSize } from '../../image/limits';
import { readRegularFileSync } from '../../image/read-file';
import { createCharDataset, DIGIT_CLASSES, type CharDataset } from './dataset';

/** IDX type codes, their names and bytes per value. */
const IDX_TYPES: Record<number, { name: IdxType; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** A decoded IDX array. */
export interface IdxArray {
  type: IdxType;
  /** Sizes of each dimension, e.g. `[60000, 28, 28]`. */
  shape: number[];
  /** The values, row-major; uint8 files keep their bytes, other types become typed arrays of their kind. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** The Fashion-MNIST class names, in label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Where Debian's `dataset-fashion-mnist` package puts the gzipped IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** What an IDX header declares. */
interface IdxHeader {
  type: { name: IdxType; bytes: number };
  shape: number[];
  count: number;
  headerBytes: number;
  /** Bytes of the whole file: header and values. */
  expected: number;
}

/**
 * Reads and checks the header at the start of `buffer`: the magic number, the shape, and for
 * images (3 or more dimensions) the pixels of one item against the image pixel limit.
 */
function readIdxHeader(buffer: Buffer, file: string): IdxHeader {
  if (buffer.length < 4) {
    throw new DataError(`${file}: ${buffer.length} bytes is too short for an IDX header; expected a 4-byte magic number (0x00 0x00 type dims)`);
  }
  const magic = buffer.readUInt32BE(0);
  const typeCode = buffer[2]!;
  const type = IDX_TYPES[typeCode];
  if (buffer[0] !== 0 || buffer[1] !== 0 || !type) {
    throw new DataError(
      `${file}: magic number 0x${magic.toString(16).padStart(8, '0')} at byte 0 is not IDX; expected 0x0000TTDD with type TT one of 08 (uint8), 09, 0B, 0C, 0D, 0E and DD dimensions (e.g. 0x00000803 for images, 0x00000801 for labels)`,
    );
  }
  const dims = buffer[3]!;
  if (dims === 0) throw new DataError(`${file}: the magic number 0x${magic.toString(16).padStart(8, '0')} declares 0 dimensions; expected at least 1`);
  const headerBytes = 4 + 4 * dims;
  if (buffer.length < headerBytes) {
    throw new DataError(`${file}: truncated header: ${dims} dimensions need ${headerBytes} header bytes, file has ${buffer.length}`);
  }
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(buffer.readUInt32BE(4 + 4 * d));
  if (dims >= 3) checkImageSize(shape.slice(2).reduce((a, b) => a * b, 1), shape[1]!, `${file}: each of its ${shape[0]} images`);
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * type.bytes;
  if (expected > constants.MAX_LENGTH) {
    throw new DataError(`${file}: header shape [${shape.join(', ')}] of ${type.name} declares ${expected} bytes, more than one buffer can hold (${constants.MAX_LENGTH})`);
  }
  return { type, shape, count, headerBytes, expected };
}

/** Gunzips IDX data, reading its header from the first kilobytes and inflating no more than it declares. */
function gunzipIdx(buffer: Buffer, file: string): Buffer {
  const corrupt = (error: unknown): DataError =>
    new DataError(`${file}: gzip data is corrupt or truncated (${errorMessage(error)}); expected a complete .gz of an IDX file`, { cause: error });
  // Deflate expands at most about 1032-fold, so a few kilobytes are safe to inflate whole.
  const prefixBytes = 8192;
  let head: Buffer;
  try {
    if (buffer.length <= prefixBytes) return gunzipSync(buffer);
    head = gunzipSync(buffer.subarray(0, prefixBytes), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch (error) {
    throw corrupt(error);
  }
  const header = readIdxHeader(head, file);
  try {
    return gunzipSync(buffer, { maxOutputLength: Math.max(1, header.expected) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new DataError(`${file}: the gzip data holds more than the ${header.expected} bytes its header declares (shape [${header.shape.join(', ')}] of ${header.type.name})`, { cause: error });
    }
    throw corrupt(error);
  }
}

/**
 * Decodes IDX bytes (gunzipping first when they start with the gzip magic). `file` names the
 * source in error messages. Throws a DataError for a wrong magic number, an unknown type code,
 * images above the pixel limit (see `image/limits.ts`), a truncated file or trailing bytes.
 */
export function parseIdx(bytes: Uint8Array, file = 'IDX data'): IdxArray {
  let buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b) buffer = gunzipIdx(buffer, file);
  const { type, shape, count, headerBytes, expected } = readIdxHeader(buffer, file);
  if (buffer.length < expected) {
    const itemBytes = ((shape[0] ?? 0) > 0 ? count / shape[0]! : 1) * type.bytes;
    const completeItems = Math.floor((buffer.length - headerBytes) / Math.max(1, itemBytes));
    throw new DataError(
      `${file}: truncated: header shape [${shape.join(', ')}] of ${type.name} needs ${expected} bytes, file has ${buffer.length}; only ${completeItems} of ${shape[0]} items are complete`,
    );
  }
  if (buffer.length > expected) {
    throw new DataError(`${file}: ${buffer.length - expected} unexpected bytes after the ${count} values declared by shape [${shape.join(', ')}] (expected ${expected} bytes in all)`);
  }
  const body = buffer.subarray(headerBytes, expected);
  let data: IdxArray['data'];
  switch (type.name) {
    case 'uint8':
      data = new Uint8Array(body);
      break;
    case 'int8':
      data = new Int8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
      break;
    case 'int16':
      data = Int16Array.from({ length: count }, (_, i) => body.readInt16BE(2 * i));
      break;
    case 'int32':
      data = Int32Array.from({ length: count }, (_, i) => body.readInt32BE(4 * i));
      break;
    case 'float32':
      data = Float32Array.from({ length: count }, (_, i) => body.readFloatBE(4 * i));
      break;
    case 'float64':
      data = Float64Array.from({ length: count }, (_, i) => body.readDoubleBE(8 * i));
      break;
  }
  return { type: type.name, shape, data };
}

/** Reads and decodes one IDX file (raw or gzipped); a FIFO or a device is refused before it is read. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Buffer;
  try {
    // No limit but a buffer's: the header declares the size, and parseIdx holds the file to it.
    bytes = readRegularFileSync(path, { maxBytes: constants.MAX_LENGTH, what: 'IDX file' });
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw new DataError(`${path}: cannot read the IDX file (${errorMessage(error)})`, { cause: error });
  }
  return parseIdx(bytes, path);
}

export interface LoadIdxOptions {
  /** Class names in label order. Defaults to '0'..'9' when every label is below 10, else the label numbers. */
  classes?: readonly string[];
}

/**
 * Loads an images file (`[n, rows, cols]` uint8) and its labels file (`[n]` uint8) as a data
 * set with pixels scaled to [0, 1]. The counts must agree and every label must name a class.
 *
 * @example
 * const test = loadIdxDataset('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz');
 */
export function loadIdxDataset(imagesPath: string, labelsPath: string, options: LoadIdxOptions = {}): CharDataset {
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (images.type !== 'uint8' || images.shape.length !== 3) {
    throw new DataError(`${imagesPath}: expected uint8 images of shape [n, rows, cols] (magic 0x00000803), got ${images.type} of shape [${images.shape.join(', ')}]`);
  }
  if (labels.type !== 'uint8' || labels.shape.length !== 1) {
    throw new DataError(`${labelsPath}: expected uint8 labels of shape [n] (magic 0x00000801), got ${labels.type} of shape [${labels.shape.join(', ')}]`);
  }
  const [n, height, width] = images.shape as [number, number, number];
  if (labels.shape[0] !== n) {
    throw new DataError(`${labelsPath}: ${labels.shape[0]} labels but ${imagesPath} holds ${n} images; the two files must have one label per image`);
  }
  const labelValues = Int32Array.from(labels.data);
  let maxLabel = -1;
  for (const label of labelValues) maxLabel = Math.max(maxLabel, label);
  const classes = options.classes ?? (maxLabel < 10 ? DIGIT_CLASSES : Array.from({ length: maxLabel + 1 }, (_, i) => String(i)));
  for (let i = 0; i < labelValues.length; i++) {
    if (labelValues[i]! >= classes.length) {
      throw new DataError(`${labelsPath}: label ${labelValues[i]} at item ${i} (byte ${8 + i}) is outside 0-${classes.length - 1} (${classes.length} classes)`);
    }
  }
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (images.data[i] as number) / 255;
  return createCharDataset(pixels, labelValues, classes, { height, width, source: imagesPath });
}

/** The train and test parts found in an IDX folder. */
export interface IdxDirectory {
  train?: CharDataset;
  test?: CharDataset;
}

function findIdxFile(dir: string, names: string[]): string | undefined {
  const present = new Set(readdirSync(dir));
  for (const name of names) {
    for (const candidate of [name, `${name}.gz`]) if (present.has(candidate)) return join(dir, candidate);
  }
  return undefined;
}

/**
 * Loads the MNIST-layout files in a folder: `train-images-idx3-ubyte` + `train-labels-idx1-ubyte`
 * and `t10k-images-idx3-ubyte` + `t10k-labels-idx1-ubyte`, each raw or `.gz` (the
 * `train-images.idx3-ubyte` spelling also works). Either pair may be missing, not both.
 */
export function loadIdxDirectory(dir: string, options: LoadIdxOptions = {}): IdxDirectory {
  if (!existsSync(dir)) throw new DataError(`${dir}: IDX folder not found; expected a folder with train-images-idx3-ubyte[.gz] and friends`);
  const result: IdxDirectory = {};
  for (const [part, prefix] of [['train', 'train'], ['test', 't10k']] as const) {
    const images = findIdxFile(dir, [`${prefix}-images-idx3-ubyte`, `${prefix}-images.idx3-ubyte`]);
    const labels = findIdxFile(dir, [`${prefix}-labels-idx1-ubyte`, `${prefix}-labels.idx1-ubyte`]);
    if (images && !labels) throw new DataError(`${dir}: found ${images} but no ${prefix}-labels-idx1-ubyte[.gz] beside it`);
    if (labels && !images) throw new DataError(`${dir}: found ${labels} but no ${prefix}-images-idx3-ubyte[.gz] beside it`);
    if (images && labels) result[part] = loadIdxDataset(images, labels, options);
  }
  if (!result.train && !result.test) {
    throw new DataError(`${dir}: no IDX files found; expected train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz] and/or t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz]`);
  }
  return result;
}

/** Encodes an IDX file (raw), e.g. to write test fixtures or export a data set. */
export function encodeIdx(array: { type: 'uint8'; shape: readonly number[]; data: ArrayLike<number> }): Buffer {
  const header = Buffer.alloc(4 + 4 * array.shape.length);
  header[2] = 0x08;
  header[3] = array.shape.length;
  array.shape.forEach((size, d) => header.writeUInt32BE(size, 4 + 4 * d));
  return Buffer.concat([header, Buffer.from(Uint8Array.from(array.data))]);
}
