// The HTTP server under the API: Node's, with hono's adapter, answering with a JSON error (as every other error
// is answered) the requests that never reach the app: ones Node's parser refuses (an unknown method, bytes a
// URL may not hold, headers over 16 KB) and ones the adapter refuses (a backslash in the path, a bad Host).
// Left alone, both get a bare 400/431 with no body, which OctoPrint clients show as an unknown failure.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { RequestError, getRequestListener } from '@hono/node-server';
import type { Logger } from '../log.js';

type Fetch = Parameters<typeof getRequestListener>[0];

const jsonResponse = (status: number, error: string) => new Response(JSON.stringify({ error }), { status, headers: { 'Content-Type': 'application/json' } });

/** What Node's own clientError handler would answer, as JSON. */
function parserAnswer(err: NodeJS.ErrnoException): [number, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'Request Header Fields Too Large'];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'Payload Too Large'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'Request Timeout'];
    default:
      return [400, 'Bad Request'];
  }
}

/** An app as Node's request listener, with the JSON answers for what the adapter refuses. */
export function requestListener(fetch: Fetch, hostname: string, log: Logger): (req: IncomingMessage, res: ServerResponse) => void {
  return getRequestListener(fetch, {
    hostname,
    errorHandler: (err) => {
      if (err instanceof RequestError) return jsonResponse(400, `Bad request: ${err.message}`);
      log.error(`request failed before the API: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return jsonResponse(500, 'Internal error; see the Gantry log');
    },
  });
}

export function createHttpServer(listener: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(listener);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // as Node does: nothing can be written to a reset socket, or after a response on it has begun
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, text] = parserAnswer(err);
    const body = JSON.stringify({ error: `${text}: the request could not be read (${err.code ?? err.message})` });
    // an answer to HEAD has no body: a client would read ours as the start of a second response
    const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`);
  });
  return server;
}
