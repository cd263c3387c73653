// A POST whose body is written piece by piece with back-pressure, as a slicer's HTTP library streams a large
// upload (never the whole body in memory unless the pieces are). Resolves with the status once the answer ends.
import { request } from 'node:http';

export function streamPost(base: string, path: string, headers: Record<string, string>, length: number, pieces: Iterator<Buffer>): Promise<number> {
  const url = new URL(base);
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers: { ...headers, 'Content-Length': String(length) } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    const pump = () => {
      for (let next = pieces.next(); !next.done; next = pieces.next()) {
        if (!req.write(next.value)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}
