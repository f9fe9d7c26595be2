/**
 * Worker entry: one merge (a piscina task). All logic lives in mergeCfps;
 * this returns its outcome, since an Error's code does not survive the
 * thread boundary.
 */
import { lowerThreadPriority, mergeOutcome, NodeFileLayer, type MergeOutcome, type MergeTask } from '@tidemark/core/internal';

const layer = new NodeFileLayer();
lowerThreadPriority(); // background work: commits come first (threads/priority.ts)

export default function mergeTask(task: MergeTask): MergeOutcome {
  return mergeOutcome(layer, task);
}
