// The detached process `notifyDetached` starts: delivers one event, then exits.
import { deliver, PAYLOAD_VARIABLE, type NotifyConfig, type NotifyEvent } from './notify.js';

const payload = process.env[PAYLOAD_VARIABLE];
if (payload !== undefined) {
  const { config, event } = JSON.parse(payload) as { config: NotifyConfig; event: NotifyEvent };
  await deliver(config, event);
}
