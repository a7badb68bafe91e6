/**
 * Worker-thread entry for {@link synthesizeEquations}: receives lists of image indices, renders
 * and writes each image, and reports how many it finished. Every image draws from its own
 * generator (`createRng(`${seed}:${index}`)`), so output does not depend on which worker
 * renders it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type SynthJobConfig, writeSynthImage } from './synth';

const config = workerData as SynthJobConfig;
const port = parentPort;
if (port) {
  port.on('message', (message: { indices: number[] } | { stop: true }) => {
    if ('stop' in message) {
      port.close();
      return;
    }
    try {
      for (const index of message.indices) writeSynthImage(config, index);
      port.postMessage({ done: message.indices.length });
    } catch (error) {
      port.postMessage({ error: error instanceof Error ? error.message : String(error) });
    }
  });
}
