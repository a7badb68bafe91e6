/**
 * Tiny fabricated copies of the IAM Handwriting Database layout (IAM itself needs registration):
 * `ascii/forms.txt`, `ascii/lines.txt` and `lines/<prefix>/<form>/<line>.png`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodePng } from '../../src/image/png';
import { createSyntheticWriters, renderWriterLine, randomLineText } from '../../src/writers/synth-writers';
import { createRng } from '../../src/util/rng';

/**
 * Writes `forms` and `lines` (forms.txt and lines.txt texts) under `dir`, and one file per
 * lines.txt row at its IAM path: `image(lineId)` when given, else a placeholder that is no PNG.
 * `images: false` writes no line files at all.
 */
export function writeIamLayout(dir: string, forms: string, lines: string, images: boolean | ((lineId: string) => Buffer) = true): void {
  mkdirSync(join(dir, 'ascii'), { recursive: true });
  writeFileSync(join(dir, 'ascii', 'forms.txt'), forms);
  writeFileSync(join(dir, 'ascii', 'lines.txt'), lines);
  if (images === false) return;
  for (const row of lines.split('\n').filter((l) => l && !l.startsWith('#'))) {
    const id = row.split(' ')[0] as string;
    const [prefix, form] = id.split('-');
    const folder = join(dir, 'lines', prefix as string, `${prefix}-${form}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${id}.png`), typeof images === 'function' ? images(id) : 'not read by the loader');
  }
}

/**
 * An IAM-layout folder whose line PNGs are synthetic writers' lines: writer `i` (IAM id
 * `00i`) fills form `a01-00i` with `linesPerWriter` lines `height` pixels high.
 */
export function writeFakeIam(dir: string, options: { writers: number; linesPerWriter: number; height?: number; maxWidth?: number; seed?: number }): void {
  const height = options.height ?? 40;
  const styles = createSyntheticWriters(options.writers, { seed: options.seed ?? 0, lineHeight: height });
  const forms: string[] = ['# format: a01-000u 000 2 prt 7 5 52 36'];
  const rows: string[] = ['# format: a01-000u-00 ok 154 19 408 746 1661 89 A|MOVE|to|stop|Mr.|Gaitskell|from'];
  const images = new Map<string, Buffer>();
  styles.forEach((style, w) => {
    const formId = `a01-${String(w).padStart(3, '0')}`;
    forms.push(`${formId} ${String(w).padStart(3, '0')} 1 prt ${options.linesPerWriter} ${options.linesPerWriter} 10 10`);
    for (let i = 0; i < options.linesPerWriter; i++) {
      const lineId = `${formId}-${String(i).padStart(2, '0')}`;
      const rng = createRng(`fake-iam:${lineId}`);
      const text = randomLineText(rng, 3);
      const image = renderWriterLine(text, style, rng, { height, maxWidth: options.maxWidth ?? 200 });
      images.set(lineId, encodePng(image));
      rows.push(`${lineId} ok 170 10 300 ${700 + 90 * i} ${image.width} ${image.height} ${text.split(' ').join('|')}`);
    }
  });
  writeIamLayout(dir, forms.join('\n') + '\n', rows.join('\n') + '\n', (lineId) => images.get(lineId) as Buffer);
}
