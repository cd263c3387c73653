// The farm queue's operations (src/farm/farm-queue.ts): one queue for the whole Gantry, so these act on no printer of
// their own; the HTTP routes (at any printer's base URL), MQTT's <base>/bridge/farm/cmd/<op> and /api/gantry/ops call
// them alike.
import type { FarmConstraints } from '../../farm/requirements.js';
import { FileStorage } from '../../files/storage.js';
import { ServiceError } from '../../service-error.js';
import { isPlainObject } from '../../store/json-store.js';
import { type OpCall, operation } from '../operation.js';
import { numberParam, numberValue, stringParam } from '../params.js';

const invalid = (msg: string) => new ServiceError(400, msg);
const CONSTRAINT_KEYS = ['nozzleDiameter', 'filamentType', 'printers'];

/** `constraints` of an added item, checked for shape: what the item asks of a printer beyond what the file says. */
function constraintsParam(v: unknown): FarmConstraints {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v)) throw invalid('constraints must be {"nozzleDiameter", "filamentType", "printers"}');
  const unknown = Object.keys(v).filter((k) => !CONSTRAINT_KEYS.includes(k));
  if (unknown.length > 0) throw invalid(`constraints may hold ${CONSTRAINT_KEYS.join(', ')}; not ${unknown.join(', ')}`);
  const out: FarmConstraints = {};
  if (v['nozzleDiameter'] !== undefined) out.nozzleDiameter = numberValue(v['nozzleDiameter'], 'constraints.nozzleDiameter', 0.1, 2);
  const t = v['filamentType'];
  if (t !== undefined) {
    if (typeof t !== 'string' || !t.trim() || t.length > 40 || /[\0-\x1f]/.test(t)) throw invalid('constraints.filamentType must be a filament type such as PLA or PETG');
    out.filamentType = t.trim();
  }
  const p = v['printers'];
  if (p !== undefined) {
    if (!Array.isArray(p) || p.length === 0 || p.length > 100 || !p.every((x) => typeof x === 'string')) throw invalid('constraints.printers must be a list of printer ids');
    out.printers = [...new Set(p as string[])];
  }
  return out;
}

/** The printers an item names, each one this Gantry has. */
function checkPrinters(c: OpCall, constraints: FarmConstraints): void {
  if (!constraints.printers) return;
  const ids = c.farm.printerIds();
  const missing = constraints.printers.filter((id) => !ids.includes(id));
  if (missing.length > 0) throw invalid(`constraints.printers: no printer ${missing.map((m) => `"${m}"`).join(', ')}; GET /api/gantry/printers lists them`);
}

const idParam = (i: Record<string, unknown>) => ({ id: stringParam(i, 'id', { max: 100 }) });

export const farmOps = [
  operation({
    name: 'farm.add',
    permission: 'PRINT',
    summary: 'add a file of the library to the farm queue, {"path", "copies", "constraints": {"nozzleDiameter", "filamentType", "printers"}}',
    parse: (i) => ({ path: FileStorage.path(stringParam(i, 'path', { max: 4096 })), copies: numberParam(i, 'copies', 1, 1000, 1), constraints: constraintsParam(i['constraints']) }),
    run: async (c, p) => {
      checkPrinters(c, p.constraints);
      if ((await c.target.fileKind(p.path)) !== 'file') throw new ServiceError(404, `${p.path} not found`);
      return c.farm.queue.add(p.path, p.copies, p.constraints, c.user);
    },
  }),
  operation({ name: 'farm.remove', permission: 'PRINT', summary: 'take an item off the farm queue, {"id"}', parse: idParam, run: (c, p) => c.farm.queue.remove(p.id) }),
  operation({
    name: 'farm.move',
    permission: 'PRINT',
    summary: 'move a farm queue item to a position (0 = offered a printer first), {"id", "position"}',
    parse: (i) => ({ ...idParam(i), position: numberParam(i, 'position', 0) }),
    run: (c, p) => c.farm.queue.move(p.id, p.position),
  }),
  operation({ name: 'farm.printed', permission: 'PRINT', summary: "an interrupted copy of a farm item was printed after all, {\"id\"}", parse: idParam, run: (c, p) => c.farm.queue.resolve(p.id, 'printed') }),
  operation({ name: 'farm.requeue', permission: 'PRINT', summary: 'print an interrupted copy of a farm item again, on whichever printer fits first, {"id"}', parse: idParam, run: (c, p) => c.farm.queue.resolve(p.id, 'requeue') }),
];
