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

export class Accounts {
  constructor(private readonly store: JsonStore<AccountsFile>) {}

  get data(): AccountsFile {
    return this.store.data;
  }

  user(name: string): UserRecord | undefined {
    return this.store.data.users.find((u) => u.name === name);
  }

  /** Who a presented API key belongs to. The admin key acts as the `admin` user even before one is created. */
  byKey(key: string): Identity | undefined {
    const rec = findKey(this.store.data, key);
    if (!rec) return undefined;
    if (rec === this.store.data.admin) return { name: rec.user, roles: ['admin'], via: 'apikey', key: rec };
    const u = this.user(rec.user);
    // keys issued to the built-in admin identity (the admin API key's user) before any such user exists
    if (!u && rec.user === this.store.data.admin?.user) return { name: rec.user, roles: ['admin'], via: 'apikey', key: rec };
    if (!u || !u.active) return undefined;
    return { name: u.name, roles: u.roles, via: 'apikey', key: rec };
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

  async setPassword(name: string, password: string): Promise<void> {
    if (!this.user(name)) throw new ServiceError(404, `No user ${name}`);
    if (password.length < 8) throw new ServiceError(400, 'Passwords need at least 8 characters');
    const hash = await hashPassword(password);
    await this.store.update((d) => (d.users.find((u) => u.name === name)!.password = hash));
  }

  /** A new key for a user (per-user key, or an app key when `app` is given). */
  async issueKey(user: string, app: string | null): Promise<string> {
    const key = generateApiKey();
    await this.store.update((d) => d.keys.push({ key, user, app, created: Date.now() }));
    return key;
  }

  async revokeKey(key: string): Promise<boolean> {
    const before = this.store.data.keys.length;
    await this.store.update((d) => (d.keys = d.keys.filter((k) => k.key !== key)));
    return this.store.data.keys.length < before;
  }
}
