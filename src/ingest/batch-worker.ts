/** Worker-thread entry: encodes batches posted by `EncoderPool`, so parsing and mapping leave the main thread. */
import { parentPort } from 'node:worker_threads';
import { type EncodeRequest, encodeBatch } from './batch-encoder.js';

parentPort?.on('message', (message: { id: number; request: EncodeRequest }) => {
  try {
    const result = encodeBatch(message.request);
    const transfer = [result.rows.buffer, result.rowEnds.buffer, result.quarantine.buffer].filter(
      (b, i, all) => b.byteLength > 0 && all.indexOf(b) === i,
    ) as ArrayBuffer[];
    parentPort!.postMessage({ id: message.id, result }, transfer);
  } catch (err) {
    parentPort!.postMessage({ id: message.id, error: (err as Error).message });
  }
});
