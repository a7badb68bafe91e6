/**
 * Decoded pixels as plain values (`RawImage`), a pure-JS PNG encoder, the size limits every
 * reader checks, and the edge where sharp decodes, resizes and encodes.
 *
 * The public names of image/, by module; a notebook imports them from
 * `./glyphlab/image/index`. The entry points most work starts from are also in src/index.ts.
 */

// raw-image: the RawImage value type and pixel helpers
export { createRawImage, toGrayscale, convertChannels, columnInkProfile, type RawImage } from './raw-image';

// png: a PNG encoder and decoder in plain JavaScript
export { encodePng, decodeSimplePng, isCompletePng, type DecodePngOptions } from './png';

// limits: the largest image glyphlab decodes
export { DEFAULT_MAX_IMAGE_PIXELS, maxImagePixels, checkImageSize } from './limits';

// sharp-io: decoding, reading headers and encoding through sharp
export { decodeImage, readImageHeader, encodePngWithSharp, type DecodeImageOptions } from './sharp-io';
