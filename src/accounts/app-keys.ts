// OctoPrint's application-key flow: an app (Home Assistant, Cura, a phone) asks for a key; someone allowed to
// decide approves it in Gantry; the app polls until it gets the key.
//
// Two tokens, as OctoPrint has them: the app's poll secret (`pollToken`, OctoPrint's app_token) is known only
// to the app that asked and is never listed or pushed; approvers see a separate request `id` (user_token). The
// key is handed out once, then the request is gone.
//
// Who decides, and whose key it is: a request that names a user may be decided by that user or by an admin, and
// the key is that user's; a request naming nobody gets a key for whoever approves it. Either way the key holds
// the approver's rights or fewer, never more (a `user` approving a request "for admin" gets nothing).
import { randomBytes } from 'node:crypto';
import { ServiceError } from '../service-error.js';
import { permissionsOf } from './permissions.js';
import type { Accounts, Identity } from './users.js';

export interface AppKeyRequest {
  /** what approvers see and decide by */
  id: string;
  /** the app's secret for polling; only the requesting app has it */
  pollToken: string;
  app: string;
  user: string | null;
  remoteAddress: string | null;
  created: number;
  lastPoll: number;
  decision: 'pending' | 'granted' | 'denied';
  key: string | null;
}

export interface AppKeysEvents {
  requested(r: AppKeyRequest): void;
  decided(r: AppKeyRequest): void;
}

const POLL_TIMEOUT_MS = 60_000; // a request its app stopped polling for a minute is dropped
const MAX_AGE_MS = 10 * 60_000;
/** per client address: a flood from one address only ever pushes out its own oldest requests */
export const MAX_PER_ADDRESS = 5;
const MAX_REQUESTS = 100;

export class AppKeys {
  private readonly byId = new Map<string, AppKeyRequest>();
  private readonly byPoll = new Map<string, AppKeyRequest>();

  constructor(
    private readonly accounts: Accounts,
    private readonly events: AppKeysEvents,
  ) {}

  request(app: string, user: string | null, remoteAddress: string | null): AppKeyRequest {
    this.prune();
    const group = addressGroup(remoteAddress);
    const mine = [...this.byId.values()].filter((r) => addressGroup(r.remoteAddress) === group);
    if (mine.length >= MAX_PER_ADDRESS) this.drop(mine[0]!);
    if (this.byId.size >= MAX_REQUESTS) this.drop(this.oldestOfBusiestAddress());
    const now = Date.now();
    const r: AppKeyRequest = { id: token(), pollToken: token(), app, user, remoteAddress, created: now, lastPoll: now, decision: 'pending', key: null };
    this.byId.set(r.id, r);
    this.byPoll.set(r.pollToken, r);
    this.events.requested(r);
    return r;
  }

  /** What the app sees when it polls with its secret: pending, the key (once), or gone. */
  poll(pollToken: string): AppKeyRequest | undefined {
    this.prune();
    const r = this.byPoll.get(pollToken);
    if (!r) return undefined;
    r.lastPoll = Date.now();
    if (r.decision !== 'pending') this.drop(r); // denied: gone; granted: the key goes out exactly once
    return r.decision === 'denied' ? undefined : r;
  }

  /** Pending requests `who` may decide. */
  pendingFor(who: Pick<Identity, 'name' | 'roles'>): AppKeyRequest[] {
    this.prune();
    return [...this.byId.values()].filter((r) => r.decision === 'pending' && mayDecide(who, r));
  }

  /** An approver's decision. 404 for no such pending request, 403 when it is not theirs to decide. */
  async decide(id: string, grant: boolean, approver: Identity): Promise<AppKeyRequest> {
    this.prune();
    const r = this.byId.get(id);
    if (!r || r.decision !== 'pending') throw new ServiceError(404, 'No such pending request');
    if (!mayDecide(approver, r)) throw new ServiceError(403, `This request is for ${r.user}: only ${r.user} or an admin may decide it`);
    if (grant) {
      const holder = r.user ?? approver.name;
      // the named account must exist now; its rights are at most the approver's (itself, or an admin's)
      if (!this.accounts.identity(holder)) throw new ServiceError(409, `${holder} is not an active user of this Gantry`);
      r.key = await this.accounts.issueKey(holder, r.app);
    }
    r.decision = grant ? 'granted' : 'denied';
    r.lastPoll = Date.now();
    this.events.decided(r);
    return r;
  }

  private drop(r: AppKeyRequest): void {
    this.byId.delete(r.id);
    this.byPoll.delete(r.pollToken);
  }

  private oldestOfBusiestAddress(): AppKeyRequest {
    const counts = new Map<string, number>();
    for (const r of this.byId.values()) counts.set(addressGroup(r.remoteAddress), (counts.get(addressGroup(r.remoteAddress)) ?? 0) + 1);
    const busiest = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    return [...this.byId.values()].find((r) => addressGroup(r.remoteAddress) === busiest)!;
  }

  private prune(): void {
    const now = Date.now();
    for (const r of [...this.byId.values()]) {
      if (now - r.created > MAX_AGE_MS || now - r.lastPoll > POLL_TIMEOUT_MS) this.drop(r);
    }
  }
}

/** May `who` decide request `r`? Its named user, or an admin; a request naming nobody, anyone who may grant. */
export function mayDecide(who: Pick<Identity, 'name' | 'roles'>, r: Pick<AppKeyRequest, 'user'>): boolean {
  const perms = permissionsOf(who.roles);
  if (!perms.includes('PLUGIN_APPKEYS_GRANT')) return false;
  return r.user === null || r.user === who.name || perms.includes('ADMIN');
}

/** 192 random bits, URL-safe. */
function token(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * The unit one client controls: an IPv4 address, or an IPv6 /64 (one host on a LAN can take any address in its
 * /64, so counting single v6 addresses would not stop a flood). IPv4-mapped v6 counts as IPv4.
 */
export function addressGroup(address: string | null): string {
  if (!address) return 'unknown';
  const a = address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (!a.includes(':')) return a;
  const [head = '', tail = ''] = a.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const full = a.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return full.slice(0, 4).map((p) => p.replace(/^0+(?=.)/, '')).join(':') + '::/64';
}
