/** Worker-thread entry for the batch source: preprocesses whole batches off the main thread. */
import { parentPort } from 'node:worker_threads';
import { preprocessBatch, type PreprocessParams } from './batch-preprocess';

interface Job {
  id: number;
  paths: string[];
  sampleIndices: number[];
  params: PreprocessParams;
}

const port = parentPort;
if (port) {
  port.on('message', (job: Job) => {
    preprocessBatch(job.paths, job.sampleIndices, job.params).then(
      (images) => port.postMessage({ id: job.id, images }, [images.buffer]),
      (error: unknown) => port.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
