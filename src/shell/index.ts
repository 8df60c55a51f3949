export { runShell, SHELL_ERROR, SHELL_REFUSED, type ShellOptions } from './run.js';
export { principalsFor, describeOffer, type PrincipalsDecision, type PrincipalsRequest } from './principals.js';
export { readAuthInfo, publicKeysOf, chooseKey, MAX_AUTH_INFO_BYTES, type OfferedKey, type AuthInfoResult } from './auth-info.js';
export { clientAddressOf } from './connection.js';
export { decideLogin, type LoginContext } from './login.js';
export { queueInvocation, type Invocation, type QueueInvocation } from './queue.js';
export { runChild, type ChildResult } from './spawn.js';
