import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type EncodedBatch, type EncodeRequest, encodeBatch } from './batch-encoder.js';

/**
 * Encodes batches on worker threads, so that parsing and mapping run beside the engine's insert instead of
 * taking turns with it on the main thread. Results come back in any order; callers await them in order.
 *
 * Falls back to encoding in the calling thread when the compiled worker file is not there (tests run the
 * TypeScript sources) or when asked for no workers.
 */
export class EncoderPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<
    number,
    { resolve: (b: EncodedBatch) => void; reject: (e: Error) => void }
  >();
  private next = 0;
  private seq = 0;

  constructor(size: number = defaultWorkers()) {
    const file = fileURLToPath(new URL('./batch-worker.js', import.meta.url));
    if (size <= 0 || !fs.existsSync(file)) return;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(file);
      worker.unref();
      worker.on('message', (m: { id: number; result?: EncodedBatch; error?: string }) => {
        const w = this.waiting.get(m.id);
        if (!w) return;
        this.waiting.delete(m.id);
        if (m.error !== undefined) w.reject(new Error(`batch encoding failed: ${m.error}`));
        else w.resolve(m.result!);
      });
      worker.on('error', (err) => {
        for (const w of this.waiting.values()) w.reject(err);
        this.waiting.clear();
      });
      this.workers.push(worker);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  encode(request: EncodeRequest): Promise<EncodedBatch> {
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(encodeBatch(request));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const id = this.seq++;
    const worker = this.workers[this.next++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, request });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

/**
 * Encoder threads by default: none on one or two cores, where the engine's insert already keeps both busy
 * and a worker only adds ~80 MiB (measured: 100k OfficeActivity records took 4.46 s with none, 4.41 s with
 * one, 4.67 s with two); otherwise one per core beyond two, at most four. `VIGIL_INGEST_WORKERS` overrides.
 */
export function defaultWorkers(): number {
  const fromEnv = Number(process.env.VIGIL_INGEST_WORKERS);
  if (process.env.VIGIL_INGEST_WORKERS && Number.isInteger(fromEnv) && fromEnv >= 0) return fromEnv;
  return Math.max(0, Math.min(4, os.availableParallelism() - 2));
}
