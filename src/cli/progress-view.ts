/**
 * Progress bar per epoch (cli-progress) with running loss, images/s and ETA. Drawn only on a
 * terminal: in CI logs and pipes nothing is drawn (the epoch lines say enough).
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../train/train.js';

export class ProgressView {
  private bar: cliProgress.SingleBar | null = null;
  private epoch = 0;
  private readonly enabled: boolean;
  private readonly stream: NodeJS.WriteStream;

  constructor(o: { enabled: boolean; stream: NodeJS.WriteStream }) {
    this.stream = o.stream;
    this.enabled = o.enabled && o.stream.isTTY === true && !process.env.CI;
  }

  update(p: Progress): void {
    if (!this.enabled) return;
    if (!this.bar || this.epoch !== p.epoch) {
      this.stop();
      this.epoch = p.epoch;
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: `epoch ${p.epoch}/${p.epochs} {bar} {percentage}% | {value}/{total} img | loss {loss} | {speed} img/s | ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(p.total, 0, { loss: '-', speed: '-' });
    }
    this.bar.update(p.done, { loss: p.loss.toFixed(4), speed: Math.round(p.imagesPerSecond) });
  }

  stop(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    }
  }
}
