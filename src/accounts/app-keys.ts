// OctoPrint's application-key flow: an app (Home Assistant, Cura, a phone) asks for a key; the owner approves
// it in Gantry; the app polls until it gets the key. Unpolled requests expire quickly, answered ones too.
import { randomBytes } from 'node:crypto';
import type { EventBus } from '../events.js';
import type { Accounts } from './users.js';

export interface AppKeyRequest {
  token: string;
  app: string;
  user: string | null;
  remoteAddress: string | null;
  created: number;
  lastPoll: number;
  decision: 'pending' | 'granted' | 'denied';
  key: string | null;
}

const POLL_TIMEOUT_MS = 5_000; // OctoPrint: a request nobody polls for 5 s is dropped
const MAX_AGE_MS = 10 * 60_000;
const MAX_PENDING = 50;

export class AppKeys {
  private readonly requests = new Map<string, AppKeyRequest>();

  constructor(
    private readonly accounts: Accounts,
    private readonly bus: EventBus,
  ) {}

  request(app: string, user: string | null, remoteAddress: string | null): AppKeyRequest {
    this.prune();
    if (this.requests.size >= MAX_PENDING) this.requests.delete(this.requests.keys().next().value!);
    const r: AppKeyRequest = { token: randomBytes(24).toString('base64url'), app, user, remoteAddress, created: Date.now(), lastPoll: Date.now(), decision: 'pending', key: null };
    this.requests.set(r.token, r);
    this.bus.emit('appkeys.request', { token: r.token, app, user, remoteAddress });
    return r;
  }

  /** What the app sees when it polls: pending, the key (once), or gone. */
  poll(token: string): AppKeyRequest | undefined {
    this.prune();
    const r = this.requests.get(token);
    if (!r) return undefined;
    r.lastPoll = Date.now();
    if (r.decision === 'denied') {
      this.requests.delete(token);
      return undefined;
    }
    if (r.decision === 'granted') this.requests.delete(token);
    return r;
  }

  pending(): AppKeyRequest[] {
    this.prune();
    return [...this.requests.values()].filter((r) => r.decision === 'pending');
  }

  /** The owner's decision; the key is issued to the approving user (or the one the app named). */
  async decide(token: string, grant: boolean, approver: string): Promise<boolean> {
    this.prune();
    const r = this.requests.get(token);
    if (!r || r.decision !== 'pending') return false;
    if (!grant) {
      r.decision = 'denied';
      return true;
    }
    r.key = await this.accounts.issueKey(r.user ?? approver, r.app);
    r.decision = 'granted';
    r.lastPoll = Date.now();
    return true;
  }

  private prune(): void {
    const now = Date.now();
    for (const [t, r] of this.requests) {
      if (now - r.created > MAX_AGE_MS || (r.decision !== 'pending' ? now - r.lastPoll > 60_000 : now - r.lastPoll > POLL_TIMEOUT_MS * 12)) this.requests.delete(t);
    }
  }
}
