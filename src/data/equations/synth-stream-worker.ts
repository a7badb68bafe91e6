/** Worker-thread entry of the synthesis stream: renders whole batches off the training thread. */
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../../util/thread-priority';
import { renderStreamBatch, type StreamRenderConfig, type StreamWorkerReply } from './synth-stream';

/** As the decoding threads: rendering runs ahead, and may wait for the cores the replicas leave idle. */
const STREAM_WORKER_NICE = 10;
lowerThreadPriority(STREAM_WORKER_NICE);

const config = workerData as StreamRenderConfig;
const port = parentPort;
if (port) {
  port.on('message', (job: { id: number; first: number; count: number }) => {
    let reply: StreamWorkerReply;
    try {
      const batch = renderStreamBatch(config, job.first, job.count);
      reply = { id: job.id, batch };
      port.postMessage(reply, [batch.images.buffer]);
    } catch (error) {
      reply = { id: job.id, error: error instanceof Error ? error.message : String(error) };
      port.postMessage(reply);
    }
  });
}
