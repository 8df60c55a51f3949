import { parentPort, workerData } from 'node:worker_threads';
import { openAudit } from '../audit/index.js';
import type { AuditEventInput } from '../audit/index.js';
import type { AuditConfig } from '../config/index.js';

const port = parentPort!;
let log: ReturnType<typeof openAudit>;
try {
  log = openAudit(workerData as AuditConfig);
  port.postMessage({ ready: true });
} catch (error) {
  port.postMessage({ fatal: error instanceof Error ? error.message : String(error) });
  port.close();
  throw error;
}

port.on('message', (message: { id: number; event: AuditEventInput } | { close: true }) => {
  if ('close' in message) {
    // In a worker, process.exit ends this thread only, once the log is flushed.
    void log.close().finally(() => process.exit(0));
    return;
  }
  log.record(message.event).then(
    () => port.postMessage({ id: message.id }),
    (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
