/** The rows of `--summary`: each layer of the chosen architecture, its output shape and parameters. */
import { CHOICES, PAPER, type Architecture } from './architecture.js';
import * as D from './dims.js';

export interface LayerRow {
  layer: string;
  output: string;
  params: number;
}

export function layerTable(a: Architecture = PAPER): LayerRow[] {
  const conv = a.conv === 'convolution' ? 'conv' : 'correlation';
  const act = a.activation === 'sigmoid' ? 'sigmoid' : a.activation;
  const paper = (what: keyof Architecture, eqs: string) => (a[what] === PAPER[what] ? ` (${eqs})` : '');
  return [
    { layer: 'input', output: `1@${D.IN}x${D.IN}`, params: 0 },
    { layer: `C1 ${conv} ${D.K}x${D.K}, ${act}${paper('conv', 'eqs 4-5')}`, output: `${D.C1_MAPS}@${D.C1_SIDE}x${D.C1_SIDE}`, params: D.K1_LENGTH + D.B1_LENGTH },
    { layer: `S1 ${a.pool} pool ${D.POOL}x${D.POOL}${paper('pool', 'eq 6')}`, output: `${D.C1_MAPS}@${D.S1_SIDE}x${D.S1_SIDE}`, params: 0 },
    { layer: `C2 ${conv} ${D.K}x${D.K}, ${act}${paper('conv', 'eqs 7-8')}`, output: `${D.C2_MAPS}@${D.C2_SIDE}x${D.C2_SIDE}`, params: D.K2_LENGTH + D.B2_LENGTH },
    { layer: `S2 ${a.pool} pool ${D.POOL}x${D.POOL}${paper('pool', 'eq 9')}`, output: `${D.C2_MAPS}@${D.S2_SIDE}x${D.S2_SIDE}`, params: 0 },
    { layer: 'F column-scan vector (eq 10)', output: String(D.FEATURES), params: 0 },
    { layer: `FC ${D.CLASSES}x${D.FEATURES}, ${a.output}${paper('output', 'eq 12')}`, output: String(D.CLASSES), params: D.W_LENGTH + D.B_LENGTH },
    { layer: `loss ${a.loss === 'mse' ? '½Σ(ŷ−y)²' : '−Σ y log ŷ'}${paper('loss', 'eq 13')}`, output: '1', params: 0 },
  ];
}

/** The meaning of every choice, one line each (for --summary and the report). */
export function architectureLines(a: Architecture): string[] {
  return (Object.keys(CHOICES) as (keyof Architecture)[]).map((k) => {
    const c = CHOICES[k];
    return `--${c.flag} ${a[k]}: ${(c.meaning as Record<string, string>)[a[k]]}`;
  });
}
