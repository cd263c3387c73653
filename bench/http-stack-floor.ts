// The design card's HTTP stack with nothing of Gantry in it: hono + @hono/node-server answering one JSON route.
// bench/idle-rss.ts runs it with Gantry's Node flags to show how much of Gantry's idle memory is the stack's.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.get('/api/version', (c) => c.json({ api: '0.1', server: '1.11.0', text: 'OctoPrint 1.11.0' }));
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
});
