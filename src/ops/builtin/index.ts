// Gantry's own operations, registered at start.
import { Operations } from '../registry.js';
import { connectionOps } from './connection.js';
import { farmOps } from './farm.js';
import { jobOps } from './job.js';
import { queueOps } from './queue.js';
import { printerOps } from './printer.js';

export function builtinOperations(): Operations {
  const ops = new Operations();
  for (const op of [...jobOps, ...queueOps, ...connectionOps, ...printerOps, ...farmOps]) ops.register(op);
  return ops;
}
