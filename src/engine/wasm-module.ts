/**
 * Loading the WebAssembly kernel (src/wasm/kernel.ts, compiled by AssemblyScript to
 * dist/kernel.wasm during the build) and typed views of its memory. The kernel imports its memory,
 * a shared one (WebAssembly threads): the threads of an engine each run an instance of the kernel
 * on the same memory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { fileURLToPath } from 'node:url';
import { CnnError } from '../errors.js';
import { architectureCodes, type Architecture } from '../model/architecture.js';
import { CLASSES, PARAM_COUNT, PIXELS } from '../model/dims.js';

export interface KernelExports {
  paramsPtr(): number;
  slotPtr(s: number): number;
  imagesPtr(): number;
  labelsPtr(): number;
  predsPtr(): number;
  outputsPtr(): number;
  takeErrors(): number;
  setArchitecture(conv: number, pool: number, act: number, output: number, loss: number): number;
  applySlots(n: number, lr: number, b: number): void;
  setOptimizer(momentum: number, weightDecay: number): void;
  sliceGradient(start: number, n: number, slot: number): number;
  sliceGradientAdd(start: number, n: number, slot: number): number;
  sliceStart(k: number, b: number): number;
  trainStaged(n: number, batch: number, lr: number): number;
  trainOnline(tid: number, threads: number, from: number, to: number, lr: number, loss0: number): number;
  barrierSleeps(): number;
  barriers(tid: number, threads: number, n: number): void;
  fmaLoop(n: number, x: number): number;
  trainBatches(tid: number, threads: number, n: number, batch: number, lr: number): number;
  predictStaged(from: number, to: number, withLoss: boolean): number;
  setThread(t: number): void;
  abortPtr(): number;
  /** One piece of the network on the workspace of one image (see src/wasm/kernel.ts piece()). */
  piece(which: number, label: number): number;
  MAX_SLICES: WebAssembly.Global;
  MAX_THREADS: WebAssembly.Global;
  STAGE_MAX: WebAssembly.Global;
  SLOT_FLOATS: WebAssembly.Global;
  PARAMETERS: WebAssembly.Global;
  [region: `${string}Ptr`]: (() => number) | ((s: number) => number);
}

/** The package root: the nearest folder above this module holding package.json. */
export function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new CnnError('cannot find the cnn-train package folder');
    d = up;
  }
  return d;
}

/**
 * Two builds of the same kernel: `fma` uses relaxed SIMD's fused multiply-add (one instruction
 * for acc + a·b on CPUs with FMA), `plain` a multiply and an add. Node 20 validates relaxed SIMD
 * only behind a V8 flag, which is switched on here before anything is compiled; where it is not
 * available (or CNN_TRAIN_FMA=0), the plain build is used. Both give the same results up to
 * float32 rounding; one process always uses one build, so results never depend on the threads.
 */
export type KernelVariant = 'fma' | 'plain';

const compiled: Partial<Record<KernelVariant, WebAssembly.Module>> = {};

function trySetFlag(flag: string): void {
  try {
    setFlagsFromString(flag);
  } catch {
    /* unknown to this V8: harmless */
  }
}

function load(variant: KernelVariant): WebAssembly.Module | undefined {
  if (!compiled[variant]) {
    const path = join(packageRoot(), 'dist', variant === 'fma' ? 'kernel-fma.wasm' : 'kernel.wasm');
    if (!existsSync(path)) throw new CnnError(`${path}: not found; build it with \`npm run build\` (or use --engine reference)`);
    const bytes = readFileSync(path);
    // compile the (small) kernel with the optimising compiler at once: V8's baseline tier would
    // run each long kernel call to its end before tiering up, so the first epochs and first
    // evaluations would be slower
    trySetFlag('--no-liftoff');
    if (variant === 'fma') {
      trySetFlag('--experimental-wasm-relaxed-simd'); // a V8 without the flag: validation decides
      if (!WebAssembly.validate(bytes)) return undefined;
    }
    compiled[variant] = new WebAssembly.Module(bytes);
  }
  return compiled[variant];
}

/** The kernel to use: the FMA build where this Node can run it, unless CNN_TRAIN_FMA=0. */
export function kernelModule(variant?: KernelVariant): { module: WebAssembly.Module; variant: KernelVariant } {
  const want = variant ?? (process.env.CNN_TRAIN_FMA === '0' ? 'plain' : 'fma');
  if (want === 'fma') {
    const m = load('fma');
    if (m) return { module: m, variant: 'fma' };
    if (variant === 'fma') throw new CnnError('this Node.js cannot run the relaxed-SIMD (FMA) kernel');
  }
  return { module: load('plain')!, variant: 'plain' };
}

/** Pages of the kernel's memory: asc --initialMemory and --maximumMemory in package.json. */
export const KERNEL_PAGES = 72;

/** A memory for the kernel, shared by the threads of one engine. */
export function kernelMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: KERNEL_PAGES, maximum: KERNEL_PAGES, shared: true });
}

/**
 * An instance of the kernel on `memory` (a fresh one by default) as thread `thread` of the engine
 * (its workspace), set to an architecture (required: every instance on every thread must compute
 * the same network), and views of its regions.
 */
export class Kernel {
  readonly ex: KernelExports;
  readonly memory: WebAssembly.Memory;
  /** The parameters as the kernel holds them (kernels rotated for correlation: kernel-params.ts). */
  readonly params: Float32Array;
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly preds: Uint8Array;
  readonly outputs: Float32Array;
  readonly maxSlices: number;
  readonly stageMax: number;
  /** Floats per gradient slot (the parameters padded to whole vectors). */
  readonly slotFloats: number;
  /** Momentum's velocity, in the layout of params. */
  readonly velocity: Float32Array;

  readonly maxThreads: number;
  /** The word that tells every thread of the engine to stop (a thread failed). */
  readonly abortWord: Int32Array;

  constructor(module: WebAssembly.Module, readonly architecture: Architecture, memory: WebAssembly.Memory = kernelMemory(), readonly thread = 0) {
    this.memory = memory;
    const inst = new WebAssembly.Instance(module, {
      env: { memory, abort: () => { throw new Error('wasm kernel abort'); } },
    });
    this.ex = inst.exports as unknown as KernelExports;
    this.ex.setThread(thread);
    if (this.ex.PARAMETERS.value !== PARAM_COUNT) {
      throw new CnnError(`the wasm kernel was built for ${this.ex.PARAMETERS.value} parameters, this program has ${PARAM_COUNT}: rebuild with \`npm run build\``);
    }
    const c = architectureCodes(architecture);
    if (this.ex.setArchitecture(c.conv, c.pool, c.activation, c.output, c.loss) !== 0) {
      throw new CnnError(`the wasm kernel does not know the architecture ${JSON.stringify(architecture)}: rebuild with \`npm run build\``);
    }
    const buf = memory.buffer;
    this.maxSlices = this.ex.MAX_SLICES.value as number;
    this.maxThreads = this.ex.MAX_THREADS.value as number;
    this.abortWord = new Int32Array(buf, this.ex.abortPtr(), 1);
    this.stageMax = this.ex.STAGE_MAX.value as number;
    this.slotFloats = this.ex.SLOT_FLOATS.value as number;
    this.params = new Float32Array(buf, this.ex.paramsPtr(), PARAM_COUNT);
    this.velocity = new Float32Array(buf, (this.ex.velocityPtr as () => number)(), PARAM_COUNT);
    this.images = new Uint8Array(buf, this.ex.imagesPtr(), this.stageMax * PIXELS);
    this.labels = new Uint8Array(buf, this.ex.labelsPtr(), this.stageMax);
    this.preds = new Uint8Array(buf, this.ex.predsPtr(), this.stageMax);
    this.outputs = new Float32Array(buf, this.ex.outputsPtr(), this.stageMax * CLASSES);
  }

  slot(s: number): Float32Array {
    return new Float32Array(this.memory.buffer, this.ex.slotPtr(s), this.slotFloats);
  }

  /** A float32 view of a workspace region (e.g. 'c1' for c1Ptr), `length` floats long. */
  region(name: string, length: number): Float32Array {
    const ptr = this.ex[`${name}Ptr`] as () => number;
    if (typeof ptr !== 'function') throw new Error(`the wasm kernel has no region ${name}`);
    return new Float32Array(this.memory.buffer, ptr(), length);
  }
}
