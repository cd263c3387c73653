// Users with roles and scrypt-hashed passwords, app keys and per-user keys, in one durable file (0600).
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ServiceError } from '../service-error.js';
import type { JsonStore } from '../store/json-store.js';
import { type KeyRecord, type KeysFile, findKey, generateApiKey } from './api-keys.js';
import type { Role } from './permissions.js';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export interface UserRecord {
  name: string;
  /** scrypt$<salt b64>$<hash b64> */
  password: string;
  roles: Role[];
  active: boolean;
}

export interface AccountsFile extends KeysFile {
  users: UserRecord[];
}

export function defaultAccounts(): AccountsFile {
  return { admin: null, keys: [], users: [] };
}

/** The identity a request runs as. */
export interface Identity {
  name: string;
  roles: Role[];
  via: 'apikey' | 'session';
  key?: KeyRecord;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length);
  return timingSafeEqual(got, expected);
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
const MAX_KEYS_PER_USER = 50;

export class Accounts {
  constructor(private readonly store: JsonStore<AccountsFile>) {}

  get data(): AccountsFile {
    return this.store.data;
  }

  user(name: string): UserRecord | undefined {
    return this.store.data.users.find((u) => u.name === name);
  }

  /**
   * The identity an account name stands for right now: an active user with their roles, or the built-in
   * `admin` identity the admin API key acts as while no user of that name exists. Undefined for anyone else.
   */
  identity(name: string): Omit<Identity, 'via'> | undefined {
    const u = this.user(name);
    if (u) return u.active ? { name: u.name, roles: u.roles } : undefined;
    if (name === this.store.data.admin?.user) return { name, roles: ['admin'] };
    return undefined;
  }

  /** Who a presented API key belongs to. A key's rights are its user's rights now, not when it was issued. */
  byKey(key: string): Identity | undefined {
    const rec = findKey(this.store.data, key);
    if (!rec) return undefined;
    if (rec === this.store.data.admin) return { name: rec.user, roles: ['admin'], via: 'apikey', key: rec };
    const who = this.identity(rec.user);
    return who ? { ...who, via: 'apikey', key: rec } : undefined;
  }

  isAdminKey(rec: KeyRecord | undefined): boolean {
    return rec !== undefined && rec === this.store.data.admin;
  }

  /**
   * First-run setup may be done without a key only on a fresh install: no account, no issued key, and an admin
   * key that Gantry generated itself and nobody has used yet. An operator who set a key (--api-key), or who used
   * the generated one, has taken the appliance: from then on only an admin may create accounts.
   */
  setupOpen(): boolean {
    const d = this.store.data;
    return d.users.length === 0 && d.keys.length === 0 && d.admin?.source !== 'operator' && !d.admin?.used;
  }

  /** Records (once) that the admin key was used, which closes keyless first-run setup for good. */
  async markAdminKeyUsed(): Promise<void> {
    if (!this.store.data.admin || this.store.data.admin.used) return;
    await this.store.update((d) => {
      if (d.admin) d.admin.used = true;
    });
  }

  async byPassword(name: string, password: string): Promise<UserRecord | undefined> {
    const u = this.user(name);
    // verify against a dummy hash for unknown users, so timing does not reveal who exists
    const ok = await verifyPassword(password, u?.password ?? 'scrypt$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    return ok && u?.active ? u : undefined;
  }

  async addUser(name: string, password: string, roles: Role[]): Promise<UserRecord> {
    if (!NAME.test(name)) throw new ServiceError(400, 'User names are 1-64 characters of letters, digits, _ . @ -');
    if (password.length < 8) throw new ServiceError(400, 'Passwords need at least 8 characters');
    if (this.user(name)) throw new ServiceError(409, `User ${name} already exists`);
    const rec: UserRecord = { name, password: await hashPassword(password), roles, active: true };
    await this.store.update((d) => d.users.push(rec));
    return rec;
  }

  async removeUser(name: string): Promise<void> {
    if (!this.user(name)) throw new ServiceError(404, `No user ${name}`);
    await this.store.update((d) => {
      d.users = d.users.filter((u) => u.name !== name);
      d.keys = d.keys.filter((k) => k.user !== name);
    });
  }

  /** Changes a user's roles and/or whether they may sign in (their keys and sessions follow at once). */
  async updateUser(name: string, change: { roles?: Role[]; active?: boolean }): Promise<UserRecord> {
    if (!this.user(name)) throw new ServiceError(404, `No user ${name}`);
    await this.store.update((d) => {
      const u = d.users.find((x) => x.name === name)!;
      if (change.roles) u.roles = change.roles;
      if (change.active !== undefined) u.active = change.active;
    });
    return this.user(name)!;
  }

  async setPassword(name: string, password: string): Promise<void> {
    if (!this.user(name)) throw new ServiceError(404, `No user ${name}`);
    if (password.length < 8) throw new ServiceError(400, 'Passwords need at least 8 characters');
    const hash = await hashPassword(password);
    await this.store.update((d) => {
      const u = d.users.find((x) => x.name === name);
      if (!u) throw new ServiceError(404, `No user ${name}`); // removed while the hash was computed
      u.password = hash;
    });
  }

  /** A new key for a user (per-user key, or an app key when `app` is given). */
  async issueKey(user: string, app: string | null): Promise<string> {
    // each key rewrites and fsyncs keys.json, and any signed-in account may make keys for itself: bounded
    if (this.store.data.keys.filter((k) => k.user === user).length >= MAX_KEYS_PER_USER) {
      throw new ServiceError(409, `${user} has ${MAX_KEYS_PER_USER} API keys already; revoke one first`);
    }
    const key = generateApiKey();
    await this.store.update((d) => d.keys.push({ key, user, app, created: Date.now() }));
    return key;
  }

  async revokeKey(key: string): Promise<boolean> {
    if (!this.store.data.keys.some((k) => k.key === key)) return false;
    await this.store.update((d) => (d.keys = d.keys.filter((k) => k.key !== key)));
    return true;
  }
}
