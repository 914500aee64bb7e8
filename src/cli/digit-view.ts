/** A 28x28 input drawn in the terminal, and the ten outputs as a bar chart. */
import type { ChalkInstance } from 'chalk';

const RAMP = ' .:-=+*#%@';

/**
 * With 256 or more colours: Unicode upper half blocks, the top pixel as foreground and the bottom one as
 * background grey (14 lines). Without: two characters of an ASCII ramp per pixel (28 lines).
 */
export function drawDigit(pixels: Uint8Array, c: ChalkInstance): string {
  const lines: string[] = [];
  if (c.level >= 2) {
    for (let y = 0; y < 28; y += 2) {
      let s = '';
      for (let x = 0; x < 28; x++) {
        const top = pixels[y * 28 + x], bottom = pixels[(y + 1) * 28 + x];
        s += c.rgb(top, top, top).bgRgb(bottom, bottom, bottom)('▀');
      }
      lines.push(s);
    }
  } else {
    for (let y = 0; y < 28; y++) {
      let s = '';
      for (let x = 0; x < 28; x++) {
        const ch = RAMP[Math.min(RAMP.length - 1, Math.floor((pixels[y * 28 + x] / 256) * RAMP.length))];
        s += ch + ch;
      }
      lines.push(s.replace(/\s+$/, ''));
    }
  }
  return lines.join('\n');
}

/** One line per class: label, bar (width ∝ output), value; the predicted class highlighted. */
export function outputBars(outputs: ArrayLike<number>, predicted: number, c: ChalkInstance, width = 30): string {
  const lines: string[] = [];
  for (let i = 0; i < 10; i++) {
    const v = outputs[i];
    const full = Math.floor(v * width), rest = v * width - full;
    const bar = '█'.repeat(full) + (rest >= 0.5 ? '▌' : '');
    const line = `  ${i} ${bar.padEnd(width + 1)} ${v.toFixed(4)}`;
    lines.push(i === predicted ? c.bold.green(line) : line);
  }
  return lines.join('\n');
}
