// Calling an operation (src/ops/) from a route: the caller's permissions from its identity, this printer as the
// target. The route only translates OctoPrint's request shape into the operation's parameters.
import type { Context } from 'hono';
import { type Permission, permissionsOf } from '../accounts/permissions.js';
import { ServiceError } from '../service-error.js';
import type { ApiDeps, ApiEnv } from './context.js';

export function callOp<E extends ApiEnv>(deps: ApiDeps, c: Context<E>, name: string, input: Record<string, unknown> = {}): Promise<unknown> {
  const identity = c.get('identity');
  const farm = { queue: deps.farm, printerIds: () => deps.printers.list().map((p) => p.id) };
  return deps.ops.call(name, { user: c.get('user'), permissions: identity ? permissionsOf(identity.roles) : [], target: deps.unit, farm, log: deps.log }, input);
}

/** Refuses (403, as Operations.call does) a caller without `permission` (a permission, or the one the operation of
 * that name declares): for a branch of a route that does not run an operation itself. The route's door check lets in
 * a caller with the permission of any of the route's operations; each branch is checked against what it does. */
export function requirePermission<E extends ApiEnv>(deps: ApiDeps, c: Context<E>, what: string, permission?: Permission): void {
  const need = permission ?? deps.ops.get(what)?.permission ?? 'ADMIN';
  const identity = c.get('identity');
  if (!(identity ? permissionsOf(identity.roles) : []).includes(need)) throw new ServiceError(403, `${what} needs the ${need} permission`);
}
