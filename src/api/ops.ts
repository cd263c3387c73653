// Calling an operation (src/ops/) from a route: the caller's permissions from its identity, this printer as the
// target. The route only translates OctoPrint's request shape into the operation's parameters.
import type { Context } from 'hono';
import { permissionsOf } from '../accounts/permissions.js';
import type { ApiDeps, ApiEnv } from './context.js';

export function callOp<E extends ApiEnv>(deps: ApiDeps, c: Context<E>, name: string, input: Record<string, unknown> = {}): Promise<unknown> {
  const identity = c.get('identity');
  const farm = { queue: deps.farm, printerIds: () => deps.printers.list().map((p) => p.id) };
  return deps.ops.call(name, { user: c.get('user'), permissions: identity ? permissionsOf(identity.roles) : [], target: deps.unit, farm, log: deps.log }, input);
}
