/**
 * The character data specifiers (`mnist`, `idx:DIR`, `letters-csv:FILE`) live in
 * src/data/char-source.ts, where notebooks reach them through the public API; the classify and
 * train commands import them from here.
 */
export { parseCharDataSpec, loadCharDataset, type LoadedCharDataset } from '../data/char-source';
