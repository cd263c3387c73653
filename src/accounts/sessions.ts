// Login sessions: random ids in memory (a restart logs everyone out, which is fine for an appliance), each with
// its CSRF token for cookie-authenticated requests. A session carries no rights of its own: its roles are read
// from the account at every use, so a role change or a deactivation takes effect on the next request, and a
// password change, a removal or a revoked key ends the sessions (and, through `onEnded`, their push sockets).
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from './permissions.js';

export interface Session {
  id: string;
  user: string;
  /** the account's roles as of this use (refreshed by `get`) */
  roles: Role[];
  csrf: string;
  created: number;
  lastSeen: number;
  /** passive logins (API-key clients asking for a push-socket session) carry no cookie */
  cookie: boolean;
  /** digest of the API key a passive login presented: revoking the key ends the session */
  keyDigest: string | null;
}

/** the login cookie; the page's push socket also authenticates with it */
export const SESSION_COOKIE = 'gantry_session';

const IDLE_MS = 7 * 24 * 3600 * 1000;
const MAX_SESSIONS = 500;

export function keyDigest(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

export interface SessionsDeps {
  /** the account's current roles; undefined when it no longer exists or is deactivated */
  rolesOf(user: string): Role[] | undefined;
  /** told which sessions just ended (the push server drops their sockets) */
  onEnded?(ids: string[]): void;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(private readonly d: SessionsDeps) {}

  create(user: string, roles: Role[], cookie: boolean, presentedKey?: string): Session {
    this.prune();
    const s: Session = {
      id: randomBytes(24).toString('base64url'),
      user,
      roles,
      csrf: randomBytes(24).toString('base64url'),
      created: Date.now(),
      lastSeen: Date.now(),
      cookie,
      keyDigest: presentedKey ? keyDigest(presentedKey) : null,
    };
    this.byId.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    const roles = this.d.rolesOf(s.user);
    if (Date.now() - s.lastSeen > IDLE_MS || !roles) {
      this.endWhere((x) => x === s);
      return undefined;
    }
    s.roles = roles;
    s.lastSeen = Date.now();
    return s;
  }

  /** A push-socket client authenticates with `user:session`. */
  check(user: string, id: string): Session | undefined {
    const s = this.get(id);
    return s && s.user === user ? s : undefined;
  }

  end(id: string): void {
    this.endWhere((s) => s.id === id);
  }

  /** Ends every session of `user` but `exceptId` (the one that changed its own password stays signed in). */
  endAllOf(user: string, exceptId?: string | null): void {
    this.endWhere((s) => s.user === user && s.id !== exceptId);
  }

  /** Ends the passive sessions opened with a key that was just revoked. */
  endByKey(key: string): void {
    const d = keyDigest(key);
    this.endWhere((s) => s.keyDigest === d);
  }

  get size(): number {
    return this.byId.size;
  }

  private endWhere(pred: (s: Session) => boolean): void {
    const ended: string[] = [];
    for (const [id, s] of this.byId) {
      if (!pred(s)) continue;
      this.byId.delete(id);
      ended.push(id);
    }
    if (ended.length) this.d.onEnded?.(ended);
  }

  private prune(): void {
    const now = Date.now();
    this.endWhere((s) => now - s.lastSeen > IDLE_MS);
    if (this.byId.size >= MAX_SESSIONS) {
      const oldest = this.byId.keys().next().value!;
      this.endWhere((s) => s.id === oldest);
    }
  }
}
