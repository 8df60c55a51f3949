// The detached process `notifyDetached` starts: delivers one event, then exits.
// Its watchdog ends it after notifyLifetimeMs whatever it waits on (a webhook
// peer that never answers, a secret file that blocks, a command that never
// ends); what it gives up on is written to the operator log.
import { Lifetime, writeOperatorLog } from '../hook/lifetime.cjs';
import { escapeControl, safeLine } from '../text/index.js';
import { deliver, notifyLifetimeMs, PAYLOAD_VARIABLE, type NotifyPayload } from './notify.js';

const NAME = 'pushgate queue notifier';
const payload = process.env[PAYLOAD_VARIABLE];
if (payload !== undefined) {
  const { config, event, logFile = null } = JSON.parse(payload) as NotifyPayload;
  const lifetime = new Lifetime({ name: NAME, limitMs: notifyLifetimeMs(config), logFile });
  lifetime.phase(`delivering the ${event.event} event of queue entry ${escapeControl(event.id)}`);
  const result = await deliver(config, event);
  lifetime.stop();
  const what = `${NAME}: the ${event.event} event of queue entry ${escapeControl(event.id)}`;
  if (result.webhook !== undefined && !result.webhook.ok) {
    const why = result.webhook.status !== undefined ? `HTTP ${result.webhook.status}` : safeLine(result.webhook.error ?? 'no answer');
    writeOperatorLog({ logFile }, 'warn', `${what} was not delivered to the webhook after ${result.webhook.attempts} attempt(s): ${why}; given up`, { process: 'notify', pid: process.pid });
  }
  if (result.command !== undefined && !result.command.ok) {
    writeOperatorLog({ logFile }, 'warn', `${what}: the notify command failed: ${safeLine(result.command.error ?? 'unknown error')}`, { process: 'notify', pid: process.pid });
  }
  // Nothing left to wait for (a kept-alive connection would hold the process a few seconds).
  process.exit(0);
}
