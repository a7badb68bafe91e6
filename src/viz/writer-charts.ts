/**
 * Pictures for writer identification: line images of several writers as
 * inline PNGs, and where the patch sampler cut its patches from one line, as a plotly figure.
 */
import { encodePng } from '../image/png';
import type { RawImage } from '../image/raw-image';
import type { FigureSpec } from '../types';
import { escapeHtml } from './html';

/** A raw image as a `data:image/png;base64,...` URI, for `<img>` tags and plotly image traces. */
export function imageDataUri(image: RawImage): string {
  return `data:image/png;base64,${encodePng(image).toString('base64')}`;
}

/** One captioned picture of {@link imageGalleryHtml}. */
export interface GalleryItem {
  image: RawImage;
  caption: string;
}

/** Options of {@link imageGalleryHtml}. */
export interface ImageGalleryOptions {
  /** CSS height of each picture. Defaults to '48px'. */
  height?: string;
}

/** An HTML table of images (inlined PNGs), one row each, caption first. */
export function imageGalleryHtml(items: readonly GalleryItem[], options: ImageGalleryOptions = {}): string {
  if (items.length === 0) return '<p>No images.</p>';
  const height = escapeHtml(options.height ?? '48px');
  const rows = items.map(
    (item) =>
      `<tr><td><code>${escapeHtml(item.caption)}</code></td><td><img src="${imageDataUri(item.image)}" style="height: ${height}" alt="${escapeHtml(item.caption)}"></td></tr>`,
  );
  return `<table><tbody>${rows.join('')}</tbody></table>`;
}

/** Options of {@link patchPositionsFigure}. */
export interface PatchPositionsFigureOptions {
  /** Draw at most this many patches (the first drawn). Defaults to 40. */
  maxShown?: number;
  /** Title. Defaults to 'Sampled patches'. */
  title?: string;
}

/**
 * A line image with an outline around each sampled `size` x `size` patch (`positions` are the
 * top-left corners, as `samplePatchPositions` gives them) and a dot at its centre, so that dense
 * overlaps stay readable.
 */
export function patchPositionsFigure(image: RawImage, positions: readonly { x: number; y: number }[], size: number, options: PatchPositionsFigureOptions = {}): FigureSpec {
  const shown = positions.slice(0, options.maxShown ?? 40);
  const shapes = shown.map((p, i) => ({
    type: 'rect',
    x0: p.x - 0.5,
    y0: p.y - 0.5,
    x1: p.x + size - 0.5,
    y1: p.y + size - 0.5,
    line: { color: `hsl(${Math.round((360 * i) / Math.max(1, shown.length))}, 80%, 45%)`, width: 1.5 },
  }));
  return {
    data: [
      { type: 'image', source: imageDataUri(image), hoverinfo: 'skip' },
      {
        type: 'scatter',
        mode: 'markers',
        name: 'patch centres',
        x: shown.map((p) => p.x + (size - 1) / 2),
        y: shown.map((p) => p.y + (size - 1) / 2),
        text: shown.map((p, i) => `patch ${i + 1} at (${p.x}, ${p.y})`),
        hoverinfo: 'text',
        marker: { size: 6, color: 'crimson' },
      },
    ],
    layout: {
      title: { text: options.title ?? 'Sampled patches' },
      shapes,
      showlegend: false,
      xaxis: { range: [-0.5, Math.max(image.width, size) - 0.5], title: { text: 'x (px)' } },
      yaxis: { range: [Math.max(image.height, size) - 0.5, -0.5], scaleanchor: 'x', title: { text: 'y (px)' } },
    },
  };
}
