/**
 * `cnn-train`: the command line over train(). The options come from options.ts; each command
 * lists the ones it takes. Subcommands own their options (positional options: an option after
 * `gradcheck` belongs to gradcheck).
 */
import { Command } from 'commander';
import { checkArchitecture, describeArchitecture, type Architecture } from '../model/architecture.js';
import { architectureLines, layerTable } from '../model/layer-table.js';
import { PARAM_COUNT } from '../model/layout.js';
import { CnnError } from '../errors.js';
import { PACKAGE_VERSION } from '../version.js';
import { runExport, type ExportCliOptions } from './export-command.js';
import { runGradcheck, type GradcheckCliOptions } from './gradcheck-command.js';
import { runCompare, PASS_THROUGH, type CompareCliOptions } from './compare-command.js';
import { addOptions, ARCHITECTURE_OPTIONS, givenOption, GRID_OPTIONS, INIT_NOTE, namedErrors, toListOption } from './options.js';
import { out } from './style.js';
import { runTraining, type TrainCliOptions } from './train-command.js';

export { defaultCheckpointPath } from './train-command.js';

export interface Subcommands {
  train: (c: Command) => Promise<void>;
  gradcheck: (c: Command) => Promise<void>;
  export: (c: Command) => Promise<void>;
  compare: (c: Command) => Promise<void>;
}

export function buildProgram(run: Subcommands): Command {
  const program = namedErrors(new Command('cnn-train'))
    .description("Train Zhifei Zhang's (2016) two-convolution CNN on MNIST, exactly as derived in the paper, and save it as JSON.")
    .version(PACKAGE_VERSION)
    .enablePositionalOptions();
  addOptions(program, [
    'epochs', 'batchSize', 'lr', 'seed', 'data', 'trainLimit', 'testLimit', 'validation', 'keep', 'earlyStop',
    'lrDecay', 'momentum', 'weightDecay', 'out', 'resume', 'report', 'checkpoint', 'engine', 'threads',
    ...ARCHITECTURE_OPTIONS,
    'summary', ['json', { help: 'print one JSON object per line (events) instead of progress bars' }], 'quiet', 'debug',
  ]);
  program
    .addHelpText('after', `\n${INIT_NOTE}\n\nExamples:\n  cnn-train --epochs 5                  the paper\'s online SGD, 5 epochs\n  cnn-train --epochs 5 --batch-size 50  the DeepLearnToolbox demo settings\n  cnn-train gradcheck                   the paper\'s gradients against finite differences\n  cnn-train export model.json --onnx model.onnx
                                        the trained network as an ONNX file\n  cnn-train --pool max --activation relu --output softmax --loss cross-entropy --lr 0.1
                                        the seeds' choices together
  cnn-eval model.json                   test error and confusion matrix of the saved model`)
    .action(async () => run.train(program));
  const gc = program
    .command('gradcheck')
    .description('check every gradient of the paper (eqs 19, 24, 40, 45, 59, 64) against finite differences, in float64');
  addOptions(gc, [
    ['seed', { help: 'seed for the random parameters and the choice of digits' }],
    ['data', { help: 'folder with the MNIST IDX files, raw or .gz (the test digits are used)' }],
    'images', 'entries', ...ARCHITECTURE_OPTIONS, ['json', { help: 'print one JSON object' }], 'debug',
  ]);
  gc.addHelpText('after', `\n${INIT_NOTE}`);
  gc.action(async () => run.gradcheck(gc));
  const cmp = program
    .command('compare')
    .description('train every combination of the options given as comma-separated lists (seeds aggregated) and compare them in a table');
  for (const name of GRID_OPTIONS) cmp.addOption(toListOption(name, name === 'epochs' ? 'epochs to train' : undefined));
  addOptions(cmp, [
    ...PASS_THROUGH,
    ['out', { help: 'folder for the comparison: every run\'s model and the manifest (default: compare; it must be new or empty)', value: 'folder', noDefault: true }],
    ['resume', { help: 'finish the comparison in this folder (after Ctrl-C)', value: 'folder' }],
    ['report', { help: 'also write a self-contained HTML page: learning curves per combination, overlaid, and the table' }],
    'parallel', ['json', { help: 'print one JSON object per finished run, then a summary' }], ['quiet', { help: 'print only the table' }], 'debug',
  ]);
  cmp.addHelpText('after', '\nExample:\n  cnn-train compare --pool mean,max --activation sigmoid,relu --seed 1,2,3 --epochs 3 --batch-size 10 --lr 0.3');
  cmp.action(async () => run.compare(cmp));
  const ex = program
    .command('export')
    .description('write a trained model as an ONNX file (opset 13), to run in any ONNX runtime')
    .argument('<model>', 'model JSON file (any architecture)');
  addOptions(ex, ['onnx', ['json', { help: 'print one JSON object' }], 'debug']);
  ex.addHelpText('after', `\nThe graph computes exactly the network of the model file; the loss is not part of it.\nExample:\n  cnn-train export model.json --onnx model.onnx`);
  ex.action(async () => run.export(ex));
  return program;
}

/** The architecture the options name (checked: cross-entropy needs softmax). */
export function architectureOf(o: Architecture): Architecture {
  return checkArchitecture({ conv: o.conv, pool: o.pool, activation: o.activation, output: o.output, loss: o.loss });
}

function printSummary(a: Architecture): void {
  console.log(out.dim(describeArchitecture(a)));
  const rows = layerTable(a).map((r) => [r.layer, r.output, String(r.params)]);
  const head = ['layer', 'output', 'parameters'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padStart(w[2])}`;
  console.log(out.bold(line(head)));
  for (const r of rows) console.log(line(r));
  console.log(out.bold(line(['total', '', String(PARAM_COUNT)])));
  for (const l of architectureLines(a)) console.log(out.dim(l));
  console.log(out.dim(INIT_NOTE));
}

/** Options given before a subcommand belong to training and would be ignored: refuse them. */
function noParentOptions(program: Command, sub: string): void {
  const given = program.options.filter((opt) => {
    const src = program.getOptionValueSource(opt.attributeName());
    return src !== undefined && src !== 'default' && opt.long !== '--debug';
  });
  if (given.length > 0) {
    throw new CnnError(`${given[0].long} comes before \`${sub}\`, where it would be ignored; put the options after it: cnn-train ${sub} ${given[0].long} …`);
  }
}

export async function trainMain(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram({
    train: async (c) => {
      const o = c.opts<TrainCliOptions & { summary?: boolean }>();
      if (o.summary) printSummary(architectureOf(o));
      else exitCode = await runTraining(o, (k) => givenOption(c, k));
    },
    compare: async (c) => {
      noParentOptions(c.parent!, 'compare');
      const o = c.opts<CompareCliOptions>();
      exitCode = await runCompare(c, o);
    },
    gradcheck: async (c) => {
      noParentOptions(c.parent!, 'gradcheck');
      const o = c.opts<GradcheckCliOptions & Architecture>();
      exitCode = runGradcheck({ ...o, architecture: architectureOf(o) });
    },
    export: async (c) => {
      noParentOptions(c.parent!, 'export');
      exitCode = runExport(c.args[0], c.opts<ExportCliOptions>());
    },
  });
  await program.parseAsync(argv);
  return exitCode;
}
