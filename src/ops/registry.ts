// The operations of one Gantry: declared once (built-ins here, plugins later), checked for permission once, and
// called the same way from every surface.
import { ServiceError } from '../service-error.js';
import type { OpCall, Operation } from './operation.js';

export class Operations {
  private readonly ops = new Map<string, Operation>();

  register(op: Operation): void {
    if (this.ops.has(op.name)) throw new Error(`operation ${op.name} is registered already`);
    this.ops.set(op.name, op);
  }

  get(name: string): Operation | undefined {
    return this.ops.get(name);
  }

  list(): { name: string; permission: string; summary: string }[] {
    return [...this.ops.values()].map((o) => ({ name: o.name, permission: o.permission, summary: o.summary }));
  }

  /** Runs `name` for `call` with `input`: not-found for an unknown operation, forbidden without its permission,
   * invalid for bad parameters; otherwise whatever the operation raises. */
  async call(name: string, call: OpCall, input: Record<string, unknown> = {}): Promise<unknown> {
    const op = this.ops.get(name);
    if (!op) throw new ServiceError(404, `Unknown operation ${name}`);
    if (!call.permissions.includes(op.permission)) throw new ServiceError(403, `${name} needs the ${op.permission} permission`);
    return op.run(call, op.parse(input));
  }
}
