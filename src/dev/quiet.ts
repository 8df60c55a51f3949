/**
 * oidc-provider warns on stderr about the Node.js version and its in-memory
 * store; both are expected in a demo that lives for one process, and the
 * warnings would bury the walkthrough. Other warnings pass through.
 */
export async function withoutProviderWarnings<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]): void => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING') && /runtime|in-memory adapter/.test(args[0])) return;
    warn(...args);
  };
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}
