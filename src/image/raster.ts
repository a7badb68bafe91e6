/**
 * A small anti-aliased vector rasteriser in plain JavaScript, written for synthesis: fill
 * polygons (glyph outlines already flattened) and stroke polylines into a coverage buffer.
 *
 * Coverage comes from a signed distance to the outline, clamped to one pixel: a pixel whose
 * centre lies `d` pixels inside gets `0.5 + d`. Adding an offset to that distance makes the
 * shape bolder (offset > 0) or thinner (offset < 0), which is how synthesis varies stroke
 * thickness between images without a font of every weight. Everything is deterministic
 * double-precision arithmetic, so the same inputs give the same bytes on every machine.
 */

/** A coverage buffer: one float in [0, 1] per pixel, row-major. */
export interface CoverageBuffer {
  width: number;
  height: number;
  alpha: Float32Array;
}

/** Creates an empty coverage buffer. */
export function createCoverage(width: number, height: number): CoverageBuffer {
  return { width, height, alpha: new Float32Array(width * height) };
}

/** Squared distance from (px, py) to the segment (ax, ay)-(bx, by). */
function segmentDistanceSquared(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  let t = lengthSquared > 0 ? ((px - ax) * dx + (py - ay) * dy) / lengthSquared : 0;
  if (t < 0) t = 0;
  else if (t > 1) t = 1;
  const ex = ax + t * dx - px;
  const ey = ay + t * dy - py;
  return ex * ex + ey * ey;
}

/** The box around every point of some shapes' contours (infinite bounds when there is none). */
export function contourBounds(shapes: readonly (readonly Float64Array[])[]): { minX: number; minY: number; maxX: number; maxY: number } {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const contours of shapes) {
    for (const contour of contours) {
      for (let i = 0; i + 1 < contour.length; i += 2) {
        const x = contour[i] as number;
        const y = contour[i + 1] as number;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  return { minX, minY, maxX, maxY };
}

/**
 * Fills a shape made of closed contours (each a flat `[x0, y0, x1, y1, ...]` list in pixel
 * coordinates) with the non-zero winding rule, grown by `offset` pixels (negative thins it).
 * Coverage is combined with what is already in `target` by taking the maximum, so that
 * overlapping shapes merge like ink.
 */
export function fillContours(target: CoverageBuffer, contours: readonly Float64Array[], offset = 0): void {
  const { minX, minY, maxX, maxY } = contourBounds([contours]);
  if (!Number.isFinite(minX)) return;
  const reach = Math.abs(offset) + 1;
  const x0 = Math.max(0, Math.floor(minX - reach));
  const y0 = Math.max(0, Math.floor(minY - reach));
  const x1 = Math.min(target.width, Math.ceil(maxX + reach) + 1);
  const y1 = Math.min(target.height, Math.ceil(maxY + reach) + 1);
  const boxWidth = x1 - x0;
  const boxHeight = y1 - y0;
  if (boxWidth <= 0 || boxHeight <= 0) return;

  // Winding: each edge adds +-1 at the first pixel centre right of where it crosses a row
  // centre; a prefix sum along the row then gives the winding number of every pixel.
  const winding = new Int16Array((boxWidth + 1) * boxHeight);
  const cap = reach + 1;
  const near = Math.abs(offset) + 0.5;
  const distanceSquared = new Float32Array(boxWidth * boxHeight).fill(cap * cap);
  for (const contour of contours) {
    const n = contour.length >> 1;
    for (let k = 0; k < n; k++) {
      const ax = contour[2 * k] as number;
      const ay = contour[2 * k + 1] as number;
      const next = (k + 1) % n;
      const bx = contour[2 * next] as number;
      const by = contour[2 * next + 1] as number;
      if (ay !== by) {
        const direction = by > ay ? 1 : -1;
        const lowY = Math.min(ay, by);
        const highY = Math.max(ay, by);
        const rowStart = Math.max(y0, Math.ceil(lowY - 0.5));
        const rowEnd = Math.min(y1 - 1, Math.ceil(highY - 0.5) - 1);
        for (let row = rowStart; row <= rowEnd; row++) {
          const yc = row + 0.5;
          const xc = ax + ((yc - ay) * (bx - ax)) / (by - ay);
          let column = Math.ceil(xc - 0.5) - x0;
          if (column < 0) column = 0;
          if (column <= boxWidth) {
            const index = (row - y0) * (boxWidth + 1) + column;
            winding[index] = (winding[index] ?? 0) + direction;
          }
        }
      }
      // Only distances under `near` change a pixel: one farther out is fully outside (coverage
      // 0) or fully inside (1) whatever its exact distance, so each edge visits that band only.
      const sx0 = Math.max(x0, Math.floor(Math.min(ax, bx) - near));
      const sx1 = Math.min(x1 - 1, Math.ceil(Math.max(ax, bx) + near));
      const sy0 = Math.max(y0, Math.floor(Math.min(ay, by) - near));
      const sy1 = Math.min(y1 - 1, Math.ceil(Math.max(ay, by) + near));
      for (let py = sy0; py <= sy1; py++) {
        const base = (py - y0) * boxWidth - x0;
        for (let px = sx0; px <= sx1; px++) {
          const d = segmentDistanceSquared(px + 0.5, py + 0.5, ax, ay, bx, by);
          if (d < (distanceSquared[base + px] as number)) distanceSquared[base + px] = d;
        }
      }
    }
  }

  const alpha = target.alpha;
  for (let row = 0; row < boxHeight; row++) {
    let wind = 0;
    const windingRow = row * (boxWidth + 1);
    const distanceRow = row * boxWidth;
    const targetRow = (row + y0) * target.width + x0;
    for (let column = 0; column < boxWidth; column++) {
      wind += winding[windingRow + column] as number;
      const d = Math.sqrt(distanceSquared[distanceRow + column] as number);
      let a = 0.5 + (wind !== 0 ? d : -d) + offset;
      if (a <= 0) continue;
      if (a > 1) a = 1;
      if (a > (alpha[targetRow + column] as number)) alpha[targetRow + column] = a;
    }
  }
}

/**
 * Strokes an open polyline (`[x0, y0, x1, y1, ...]`) `halfWidth` pixels to each side, with
 * round joins and caps, combining with `target` by maximum.
 */
export function strokePolyline(target: CoverageBuffer, points: ArrayLike<number>, halfWidth: number, strength = 1): void {
  const reach = halfWidth + 1;
  const alpha = target.alpha;
  for (let k = 0; k + 3 < points.length; k += 2) {
    const ax = points[k] as number;
    const ay = points[k + 1] as number;
    const bx = points[k + 2] as number;
    const by = points[k + 3] as number;
    const sx0 = Math.max(0, Math.floor(Math.min(ax, bx) - reach));
    const sx1 = Math.min(target.width - 1, Math.ceil(Math.max(ax, bx) + reach));
    const sy0 = Math.max(0, Math.floor(Math.min(ay, by) - reach));
    const sy1 = Math.min(target.height - 1, Math.ceil(Math.max(ay, by) + reach));
    for (let py = sy0; py <= sy1; py++) {
      for (let px = sx0; px <= sx1; px++) {
        const d = Math.sqrt(segmentDistanceSquared(px + 0.5, py + 0.5, ax, ay, bx, by));
        let a = halfWidth + 0.5 - d;
        if (a <= 0) continue;
        if (a > 1) a = 1;
        a *= strength;
        const index = py * target.width + px;
        if (a > (alpha[index] as number)) alpha[index] = a;
      }
    }
  }
}
