/**
 * Worker entry: one recovery task (a piscina task per checkpoint file pair).
 * All logic lives in recoverCfp; this wires the ring and turns a failure into
 * an outcome (errors.ts's wire form), since an Error's code does not survive
 * the thread boundary. A canceled task is a TidemarkError of code TM_CANCELED.
 */
import {
  NodeFileLayer,
  recoverCfp,
  RingBatchSink,
  type RecoveryTaskData,
  toWire,
  type RecoveryTaskOutcome,
} from '@tidemark/core/internal';

const layer = new NodeFileLayer();

export default function recoveryTask(data: RecoveryTaskData): RecoveryTaskOutcome {
  const sink = new RingBatchSink(data.ring, data.bell);
  try {
    return { ok: true, result: recoverCfp(layer, data.task, sink) };
  } catch (error) {
    return { ok: false, ...toWire(error) };
  } finally {
    sink.close();
  }
}
