/**
 * Console sessions, kept on the server: the browser holds only a random id
 * in an HttpOnly cookie. The store is keyed by the id's SHA-256, so the id
 * itself is never kept (nor logged) anywhere on the server. A session ends
 * at its lifetime, after its idle timeout, or at logout; past
 * `maxSessions` the oldest go first.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleUser {
  principal: string;
  roles: string[];
  sponsor?: string;
  /** `console oidc:<issuer> sub:<sub> jti:<jti>`: where the identity came from, for records. */
  keyId: string;
}

export interface Session {
  user: ConsoleUser;
  /** Sent back in every form; a state-changing request without it is refused. */
  csrf: string;
  createdAt: number;
  lastSeen: number;
  expiresAt: number;
  /** One message for the next page (after a redirect): never in a URL. */
  flash?: { kind: 'ok' | 'error'; text: string };
}

/** A login on its way through the identity provider. */
export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  createdAt: number;
}

export const LOGIN_TTL_MS = 10 * 60 * 1000;

function digest(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time comparison of two tokens. */
export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #logins = new Map<string, PendingLogin>();

  constructor(private readonly options: { lifetime: () => number; idle: () => number; now?: () => number; maxSessions?: number; maxLogins?: number }) {}

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** A new session for `user`; returns the id for the cookie. */
  create(user: ConsoleUser): { id: string; session: Session } {
    this.#sweep();
    const max = this.options.maxSessions ?? 10_000;
    while (this.#sessions.size >= max) this.#sessions.delete(this.#sessions.keys().next().value!);
    const now = this.#now();
    const id = randomToken();
    const session: Session = { user, csrf: randomToken(), createdAt: now, lastSeen: now, expiresAt: now + this.options.lifetime() };
    this.#sessions.set(digest(id), session);
    return { id, session };
  }

  /** The live session with this id, its idle clock reset; undefined when unknown, expired or idle too long. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || id.length > 128) return undefined;
    const key = digest(id);
    const session = this.#sessions.get(key);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (now >= session.expiresAt || now - session.lastSeen >= this.options.idle()) {
      this.#sessions.delete(key);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  destroy(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(digest(id));
  }

  get size(): number {
    return this.#sessions.size;
  }

  startLogin(): { id: string; login: PendingLogin } {
    this.#sweep();
    const max = this.options.maxLogins ?? 10_000;
    while (this.#logins.size >= max) this.#logins.delete(this.#logins.keys().next().value!);
    const id = randomToken();
    const login: PendingLogin = { state: randomToken(), nonce: randomToken(), codeVerifier: randomToken(48), createdAt: this.#now() };
    this.#logins.set(digest(id), login);
    return { id, login };
  }

  /** The pending login with this id, removed: a callback is used once. */
  takeLogin(id: string | undefined): PendingLogin | undefined {
    if (id === undefined || id.length > 128) return undefined;
    const key = digest(id);
    const login = this.#logins.get(key);
    this.#logins.delete(key);
    if (login === undefined || this.#now() - login.createdAt >= LOGIN_TTL_MS) return undefined;
    return login;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, session] of this.#sessions) {
      if (now >= session.expiresAt || now - session.lastSeen >= this.options.idle()) this.#sessions.delete(key);
    }
    for (const [key, login] of this.#logins) if (now - login.createdAt >= LOGIN_TTL_MS) this.#logins.delete(key);
  }
}
