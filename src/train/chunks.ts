/**
 * How many images to hand the engine per call: enough that the per-call overhead does not count,
 * few enough that the event loop runs often (signals, progress) — about `target` seconds of work,
 * measured as the run goes. Chunk sizes never change a result: a chunk is whole batches.
 */
export class ChunkSizer {
  private secondsPerImage = 0;

  /**
   * @param unit   a chunk is a multiple of this (the batch size)
   * @param max    at most this many images per call
   * @param target seconds of work per call
   */
  constructor(
    private readonly unit: number,
    private readonly max: number,
    private readonly target = 0.05,
  ) {}

  /** Images for the next call: a whole number of units, at least one. */
  next(): number {
    const cap = Math.max(this.unit, Math.floor(this.max / this.unit) * this.unit);
    if (this.secondsPerImage === 0) return Math.min(cap, this.unit * Math.max(1, Math.ceil(64 / this.unit)));
    const n = Math.floor(this.target / this.secondsPerImage / this.unit) * this.unit;
    return Math.max(this.unit, Math.min(cap, n));
  }

  /** Tell how long the last call took. */
  record(images: number, seconds: number): void {
    if (images > 0 && seconds > 0) {
      const s = seconds / images;
      this.secondsPerImage = this.secondsPerImage === 0 ? s : 0.7 * this.secondsPerImage + 0.3 * s;
    }
  }
}
