// Login sessions: random ids in memory (a restart logs everyone out, which is fine for an appliance), each with
// its CSRF token for cookie-authenticated requests.
import { randomBytes } from 'node:crypto';
import type { Role } from './permissions.js';

export interface Session {
  id: string;
  user: string;
  roles: Role[];
  csrf: string;
  created: number;
  lastSeen: number;
  /** passive logins (API-key clients asking for a push-socket session) carry no cookie */
  cookie: boolean;
}

/** the login cookie; the page's push socket also authenticates with it */
export const SESSION_COOKIE = 'gantry_session';

const IDLE_MS = 7 * 24 * 3600 * 1000;
const MAX_SESSIONS = 500;

export class Sessions {
  private readonly byId = new Map<string, Session>();

  create(user: string, roles: Role[], cookie: boolean): Session {
    this.prune();
    const s: Session = { id: randomBytes(24).toString('base64url'), user, roles, csrf: randomBytes(24).toString('base64url'), created: Date.now(), lastSeen: Date.now(), cookie };
    this.byId.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (Date.now() - s.lastSeen > IDLE_MS) {
      this.byId.delete(id);
      return undefined;
    }
    s.lastSeen = Date.now();
    return s;
  }

  /** A push-socket client authenticates with `user:session`. */
  check(user: string, id: string): Session | undefined {
    const s = this.get(id);
    return s && s.user === user ? s : undefined;
  }

  end(id: string): void {
    this.byId.delete(id);
  }

  endAllOf(user: string): void {
    for (const [id, s] of this.byId) if (s.user === user) this.byId.delete(id);
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, s] of this.byId) if (now - s.lastSeen > IDLE_MS) this.byId.delete(id);
    while (this.byId.size >= MAX_SESSIONS) this.byId.delete(this.byId.keys().next().value!);
  }
}
