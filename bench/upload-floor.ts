// The floors for bench/upload.ts: a plain node:http server that pipes each request body, unparsed, to a file and
// renames it into place: what receiving an upload costs with no multipart parsing, checks, hash or fsync (OctoPrint
// does not fsync either); or, with `discard`, one that reads the body and drops it: what Node's HTTP stack alone
// costs, the most any upload through it can reach. Run as its own process with Gantry's Node flags and
// environment; prints `PORT n` once it listens.
import { createServer } from 'node:http';
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.argv[2]!;
const discard = process.argv[3] === 'discard';
let n = 0;
const server = createServer((req, res) => {
  if (discard) {
    req.on('end', () => res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"done":true}'));
    req.resume();
    return;
  }
  const tmp = join(dir, `floor-${process.pid}-${n++}.tmp`);
  pipeline(req, createWriteStream(tmp))
    .then(() => rename(tmp, join(dir, 'floor-upload.gcode')))
    .then(
      () => res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"done":true}'),
      (err: Error) => res.writeHead(500).end(err.message),
    );
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
