/**
 * Worker entry: one recovery task (a piscina task per checkpoint file pair).
 * All logic lives in recoverCfp; this wires the ring and turns a failure into
 * an outcome, since an Error's code does not survive the thread boundary.
 */
import {
  NodeFileLayer,
  RecoveryCanceled,
  recoverCfp,
  RingBatchSink,
  type RecoveryTaskData,
  type RecoveryTaskOutcome,
} from '@tidemark/core/internal';

const layer = new NodeFileLayer();

export default function recoveryTask(data: RecoveryTaskData): RecoveryTaskOutcome {
  const sink = new RingBatchSink(data.ring, data.bell);
  try {
    return { ok: true, result: recoverCfp(layer, data.task, sink) };
  } catch (error) {
    const code =
      error instanceof RecoveryCanceled ? 'TM_CANCELED' : ((error as { code?: string }).code ?? 'TM_IO_ERROR');
    return { ok: false, code: code.startsWith('TM_') ? code : 'TM_IO_ERROR', message: (error as Error).message };
  } finally {
    sink.close();
  }
}
