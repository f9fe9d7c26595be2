/** The replication tests' cluster (src/local_cluster.ts), and how a test is skipped where nats-server is missing. */
import { test } from 'uvu';
import { natsServerPath } from '../src/local_cluster.js';

export { type NatsCluster, natsServerPath, startCluster } from '../src/local_cluster.js';

/**
 * True when nats-server is installed. Otherwise registers `name` as a skipped
 * test (so the harness counts it as skipped) and returns false; under CI
 * (`CI=true`) it throws instead, since CI must run these tests.
 */
export function natsOrSkip(name: string): boolean {
  if (natsServerPath() !== null) return true;
  const why = 'nats-server is not installed (apt-get install nats-server)';
  if (process.env.CI === 'true') throw new Error(`${name}: ${why}; CI must not skip the replication tests`);
  console.log(`  skipped: ${name}: ${why}`);
  test.skip(name, () => {});
  return false;
}
