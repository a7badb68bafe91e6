/** Worker-thread entry for the batch source: preprocesses whole batches off the main thread. */
import { parentPort } from 'node:worker_threads';
import { preprocessBatch, type PreprocessParams } from './batch-preprocess';
import { lowerThreadPriority } from '../../util/thread-priority';

/** The decoding threads' nice value (0 normal, 19 lowest). */
const BATCH_WORKER_NICE = 10;

interface Job {
  id: number;
  paths: string[];
  sampleIndices: number[];
  params: PreprocessParams;
}

// Decoding runs ahead of training (several batches are prefetched): it can wait for the cores
// the replicas leave idle rather than pause a replica that the others then wait for.
lowerThreadPriority(BATCH_WORKER_NICE);

const port = parentPort;
if (port) {
  port.on('message', (job: Job) => {
    preprocessBatch(job.paths, job.sampleIndices, job.params).then(
      (images) => port.postMessage({ id: job.id, images }, [images.buffer]),
      (error: unknown) => port.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
