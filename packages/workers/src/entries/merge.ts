/**
 * Worker entry: one merge (a piscina task). All logic lives in mergeCfps;
 * this returns its outcome, since an Error's code does not survive the
 * thread boundary.
 */
import {
  lowerThreadPriority,
  mergeOutcome,
  NodeFileLayer,
  type MergeOutcome,
  type MergeTask,
} from '@tidemark/core/internal';

/** One layer per file mode: a database's merges all use the same. */
const layers = new Map<number | undefined, NodeFileLayer>();
lowerThreadPriority(); // background work: commits come first (threads/priority.ts)

export default function mergeTask(task: MergeTask): MergeOutcome {
  let layer = layers.get(task.fileMode);
  if (layer === undefined) layers.set(task.fileMode, (layer = new NodeFileLayer(task.fileMode)));
  return mergeOutcome(layer, task);
}
