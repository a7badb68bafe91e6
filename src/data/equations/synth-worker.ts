/**
 * Worker-thread entry for {@link synthesizeEquations}: receives lists of image indices, renders
 * and writes each image, and reports the hash of each it wrote (synthesis records them). Every image draws from its own
 * generator (`createRng(`${seed}:${index}`)`), so output does not depend on which worker
 * renders it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type SynthJobConfig, type SynthWorkerMessage, writeSynthImage } from './synth';

const config = workerData as SynthJobConfig;
const port = parentPort;
if (port) {
  port.on('message', (message: { indices: number[] } | { stop: true }) => {
    if ('stop' in message) {
      port.close();
      return;
    }
    let reply: SynthWorkerMessage;
    try {
      reply = { written: message.indices.map((index): [number, string] => [index, writeSynthImage(config, index)]) };
    } catch (error) {
      reply = { error: error instanceof Error ? error.message : String(error) };
    }
    port.postMessage(reply);
  });
}
