/**
 * The network as a value: the five design choices of the seeds, each with its values. The paper's
 * network (Zhang 2016) is PAPER: true convolution, mean pooling, sigmoid everywhere, ½Σ(ŷ−y)².
 * Everything downstream reads an Architecture: the CLI options (src/cli/options.ts, generated from
 * CHOICES), the float64 layers (src/nn/network.ts), the WebAssembly kernel (option codes from
 * src/model/dims.ts), the model file (version 2 carries it), the report, gradcheck and --summary.
 * A new choice is a new entry here, then one place per stage.
 */
import { CnnError } from '../errors.js';
import * as D from './dims.js';

export interface ChoiceSpec<V extends string> {
  /** Values; the first is the paper's. The index of a value is its code in the kernel (dims.ts). */
  values: readonly V[];
  /** The CLI flag (`--${flag}`) and the model file's key. */
  flag: string;
  help: string;
  /** One line per value: what it computes (shown by --help, --summary and the report). */
  meaning: Record<V, string>;
}

export const CONVS = ['convolution', 'correlation'] as const;
export const POOLS = ['mean', 'max'] as const;
export const ACTIVATIONS = ['sigmoid', 'relu', 'tanh'] as const;
export const OUTPUTS = ['sigmoid', 'softmax'] as const;
export const LOSSES = ['mse', 'cross-entropy'] as const;

export type Conv = (typeof CONVS)[number];
export type Pool = (typeof POOLS)[number];
export type Activation = (typeof ACTIVATIONS)[number];
export type Output = (typeof OUTPUTS)[number];
export type Loss = (typeof LOSSES)[number];

export interface Architecture {
  conv: Conv;
  pool: Pool;
  activation: Activation;
  output: Output;
  loss: Loss;
}

export const CHOICES: { [K in keyof Architecture]: ChoiceSpec<Architecture[K]> } = {
  conv: {
    values: CONVS,
    flag: 'conv',
    help: 'C1 and C2: true convolution (the paper, eq 5) or cross-correlation',
    meaning: {
      convolution: 'C[i][j] = Σ_r Σ_c I[i+4−r][j+4−c]·k[r][c] (true convolution, eqs 5, 8)',
      correlation: 'C[i][j] = Σ_r Σ_c I[i+r][j+c]·k[r][c] (cross-correlation)',
    },
  },
  pool: {
    values: POOLS,
    flag: 'pool',
    help: 'S1 and S2: 2x2 mean pooling (the paper, eqs 6, 9) or max pooling (error to the first maximum)',
    meaning: {
      mean: 'S[i][j] = ¼ Σ of the 2x2 window (eqs 6, 9)',
      max: 'S[i][j] = max of the 2x2 window; the error goes to its first maximum in the order (0,0), (0,1), (1,0), (1,1)',
    },
  },
  activation: {
    values: ACTIVATIONS,
    flag: 'activation',
    help: "activation of C1 and C2: sigmoid (the paper, eq 4), relu (ReLU'(0) = 0) or tanh",
    meaning: { sigmoid: 'σ(z) = 1/(1+e^−z) (eq 4)', relu: 'max(0, z), derivative 0 at 0', tanh: 'tanh(z)' },
  },
  output: {
    values: OUTPUTS,
    flag: 'output',
    help: 'output layer: sigmoid (the paper, eq 12) or softmax',
    meaning: { sigmoid: 'ŷ = σ(W f + b) (eq 12)', softmax: 'ŷ = softmax(W f + b)' },
  },
  loss: {
    values: LOSSES,
    flag: 'loss',
    help: 'loss: mse, ½Σ(ŷ−y)² (the paper, eq 13), or cross-entropy, −Σ y log ŷ (needs --output softmax)',
    meaning: { mse: 'L = ½ Σ_i (ŷ_i − y_i)² (eq 13)', 'cross-entropy': 'L = −Σ_i y_i log ŷ_i' },
  },
};

/** The keys of an architecture, in the order of the model file and the CLI. */
export const ARCHITECTURE_KEYS = ['conv', 'pool', 'activation', 'output', 'loss'] as const satisfies readonly (keyof Architecture)[];

export const PAPER: Architecture = { conv: 'convolution', pool: 'mean', activation: 'sigmoid', output: 'sigmoid', loss: 'mse' };

/** Refuse combinations that make no sense (one line, naming the options). */
export function checkArchitecture(a: Architecture): Architecture {
  if (a.loss === 'cross-entropy' && a.output !== 'softmax') {
    throw new CnnError(`--loss cross-entropy needs --output softmax (with --output ${a.output}, ŷ is not a probability distribution)`);
  }
  return a;
}

export function isPaper(a: Architecture): boolean {
  return ARCHITECTURE_KEYS.every((k) => a[k] === PAPER[k]);
}

export function sameArchitecture(a: Architecture, b: Architecture): boolean {
  return ARCHITECTURE_KEYS.every((k) => a[k] === b[k]);
}

/** The kernel's code of each choice: its index in CHOICES (the constants of dims.ts). */
export function architectureCodes(a: Architecture): { [K in keyof Architecture]: number } {
  return {
    conv: CONVS.indexOf(a.conv),
    pool: POOLS.indexOf(a.pool),
    activation: ACTIVATIONS.indexOf(a.activation),
    output: OUTPUTS.indexOf(a.output),
    loss: LOSSES.indexOf(a.loss),
  };
}

// the codes dims.ts gives the kernel must be these indices
const expectedCodes: [readonly string[], string, number][] = [
  [CONVS, 'convolution', D.CONV_CONVOLUTION], [CONVS, 'correlation', D.CONV_CORRELATION],
  [POOLS, 'mean', D.POOL_MEAN], [POOLS, 'max', D.POOL_MAX],
  [ACTIVATIONS, 'sigmoid', D.ACTIVATION_SIGMOID], [ACTIVATIONS, 'relu', D.ACTIVATION_RELU], [ACTIVATIONS, 'tanh', D.ACTIVATION_TANH],
  [OUTPUTS, 'sigmoid', D.OUTPUT_SIGMOID], [OUTPUTS, 'softmax', D.OUTPUT_SOFTMAX],
  [LOSSES, 'mse', D.LOSS_MSE], [LOSSES, 'cross-entropy', D.LOSS_CROSS_ENTROPY],
];
for (const [values, v, code] of expectedCodes) {
  if (values.indexOf(v) !== code) throw new Error(`dims.ts gives ${v} the code ${code}, but it is value ${values.indexOf(v)} in architecture.ts`);
}

/** Short words for messages and titles, e.g. "correlation, max pooling, relu, softmax + cross-entropy". */
export function describeArchitecture(a: Architecture): string {
  if (isPaper(a)) return "the paper's network (convolution, mean pooling, sigmoid, sigmoid output + mse)";
  return `${a.conv}, ${a.pool} pooling, ${a.activation}, ${a.output} output + ${a.loss}`;
}

/** The options that differ from the paper, as CLI flags (e.g. "--pool max --activation relu"). */
export function architectureFlags(a: Architecture): string {
  return ARCHITECTURE_KEYS.filter((k) => a[k] !== PAPER[k]).map((k) => `--${CHOICES[k].flag} ${a[k]}`).join(' ');
}

/** Every valid combination (cross-entropy only with softmax): 36. */
export function allArchitectures(): Architecture[] {
  const out: Architecture[] = [];
  for (const conv of CONVS) for (const pool of POOLS) for (const activation of ACTIVATIONS) for (const output of OUTPUTS) for (const loss of LOSSES) {
    if (loss === 'cross-entropy' && output !== 'softmax') continue;
    out.push({ conv, pool, activation, output, loss });
  }
  return out;
}

/**
 * Read an architecture from an untrusted object (the model file): all five keys, known values,
 * nothing else. `where` names it in messages.
 */
export function parseArchitecture(v: unknown, where: string): Architecture {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CnnError(`${where} must be an object with the keys ${ARCHITECTURE_KEYS.join(', ')}`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(ARCHITECTURE_KEYS as readonly string[]).includes(k)) throw new CnnError(`${where} has an unknown key "${k}", expected only ${ARCHITECTURE_KEYS.join(', ')}`);
  }
  const a = {} as Record<string, string>;
  for (const k of ARCHITECTURE_KEYS) {
    const values = CHOICES[k].values as readonly string[];
    if (o[k] === undefined) throw new CnnError(`${where}.${k} is missing, expected one of ${values.join(', ')}`);
    if (typeof o[k] !== 'string' || !values.includes(o[k] as string)) {
      throw new CnnError(`${where}.${k} is ${JSON.stringify(o[k])}, expected one of ${values.join(', ')}`);
    }
    a[k] = o[k] as string;
  }
  if (a.loss === 'cross-entropy' && a.output !== 'softmax') {
    // "m.json: architecture" → "m.json: architecture.loss is … but its output is …"
    throw new CnnError(`${where}.loss is "cross-entropy" but its output is "${a.output}"; cross-entropy needs "softmax"`);
  }
  return a as unknown as Architecture;
}
