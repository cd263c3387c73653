// The printer's own queue: add a file (copies), confirm the bed is clear (which starts the next item), remove and
// reorder items.
import { operation } from '../operation.js';
import { noParams, numberParam, stringParam } from '../params.js';
import { libraryFile } from './job.js';

export const queueOps = [
  operation({
    name: 'queue.add',
    permission: 'PRINT',
    summary: 'queue a file of the library, {"path", "copies"}',
    parse: (i) => ({ path: stringParam(i, 'path', { max: 4096 }), copies: numberParam(i, 'copies', 1, 1000, 1) }),
    run: async (c, p) => c.target.queue.add(await libraryFile(c, p.path), p.copies, c.user),
  }),
  operation({ name: 'queue.bedClear', permission: 'PRINT', summary: 'the bed is clear: the next queued print may start', parse: noParams, run: (c) => c.target.queue.confirmBedClear() }),
  operation({
    name: 'queue.remove',
    permission: 'PRINT',
    summary: 'remove an item from the queue',
    parse: (i) => ({ id: stringParam(i, 'id', { max: 100 }) }),
    run: (c, p) => c.target.queue.remove(p.id),
  }),
  operation({
    name: 'queue.move',
    permission: 'PRINT',
    summary: 'move an item to a position (0 = next)',
    parse: (i) => ({ id: stringParam(i, 'id', { max: 100 }), position: numberParam(i, 'position', 0, 100_000) }),
    run: (c, p) => c.target.queue.move(p.id, p.position),
  }),
];
