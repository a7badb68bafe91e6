/** Composing the loop's evaluations. */
import type { Logs } from './callbacks';
import type { EvaluateFn } from './types';

/**
 * One `EvaluateFn` from several, their logs merged (a later key wins). For example validation
 * accuracy from `sequenceEvaluator` plus the center statistics of the epoch.
 */
export function combineEvaluators(...evaluators: EvaluateFn[]): EvaluateFn {
  return async (model) => {
    const logs: Logs = {};
    for (const evaluate of evaluators) Object.assign(logs, await evaluate(model));
    return logs;
  };
}
