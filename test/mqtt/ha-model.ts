// What Home Assistant makes of the retained discovery and state on a broker, by its own rules (core
// homeassistant/components/mqtt/discovery.py and the availability mixin): a device config's shared options
// (availability and its mode, state and command topics, qos, encoding) are merged into each component that does not
// set them itself; an entity with availability topics is available when, per `availability_mode`, all / any / the
// latest of them said its payload_available (each topic counts as not available until it says so); an entity
// without any is always available. Tests feed it every message a subscriber sees and ask it what HA would show.
import { createRequire } from 'node:module';
import type { MqttClient } from 'mqtt';

const mqtt = createRequire(import.meta.url)('mqtt') as { connect(url: string, o?: object): MqttClient };

const SHARED = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available', 'command_topic', 'state_topic', 'qos', 'encoding'];

export interface HaEntity {
  /** 'device' (from a device config's components) or 'entity' (one config per entity) */
  source: 'device' | 'entity';
  /** the discovery topic it came from */
  topic: string;
  /** the component key (device) or the object id (entity) */
  key: string;
  platform: string;
  config: Record<string, unknown>;
}

interface Avail {
  topic: string;
  available: string;
  notAvailable: string;
}

export class HomeAssistantModel {
  /** discovery topic → payload (an empty payload removes it, as a retained clear does) */
  readonly configs = new Map<string, string>();
  /** topic → last payload */
  readonly last = new Map<string, string>();
  /** topic → [available?, sequence] of its last availability message */
  private readonly seen = new Map<string, { payload: string; seq: number }>();
  private seq = 0;

  constructor(readonly prefix: string) {}

  feed(topic: string, payload: string): void {
    this.last.set(topic, payload);
    this.seen.set(topic, { payload, seq: ++this.seq });
    if (!topic.startsWith(`${this.prefix}/`) || !topic.endsWith('/config')) return;
    if (payload === '') this.configs.delete(topic);
    else this.configs.set(topic, payload);
  }

  entities(): HaEntity[] {
    const out: HaEntity[] = [];
    for (const [topic, payload] of this.configs) {
      const parts = topic.slice(this.prefix.length + 1).split('/');
      const cfg = JSON.parse(payload) as Record<string, unknown>;
      if (parts[0] === 'device') {
        const comps = (cfg['components'] ?? cfg['cmps']) as Record<string, Record<string, unknown>>;
        for (const [key, comp] of Object.entries(comps)) {
          const merged: Record<string, unknown> = { ...comp, device: cfg['device'], origin: cfg['origin'] };
          for (const o of SHARED) if (o in cfg && !(o in comp)) merged[o] = cfg[o];
          out.push({ source: 'device', topic, key, platform: comp['platform'] as string, config: merged });
        }
      } else out.push({ source: 'entity', topic, key: parts.at(-2)!, platform: parts[0]!, config: cfg });
    }
    return out;
  }

  entity(key: string, source?: 'device' | 'entity'): HaEntity {
    const found = this.entities().filter((e) => e.key === key && (!source || e.source === source));
    if (found.length !== 1) throw new Error(`${found.length} entities with key ${key}${source ? ` from ${source} discovery` : ''}`);
    return found[0]!;
  }

  /** What Home Assistant shows: available or "unavailable". */
  available(e: HaEntity): boolean {
    const c = e.config;
    const list: Avail[] = [];
    const dflt = { available: (c['payload_available'] as string) ?? 'online', notAvailable: (c['payload_not_available'] as string) ?? 'offline' };
    if (typeof c['availability_topic'] === 'string') list.push({ topic: c['availability_topic'], ...dflt });
    for (const a of (c['availability'] as Record<string, string>[] | undefined) ?? []) {
      if (a['value_template']) throw new Error('availability templates are not modelled');
      list.push({ topic: a['topic']!, available: a['payload_available'] ?? 'online', notAvailable: a['payload_not_available'] ?? 'offline' });
    }
    if (list.length === 0) return true;
    const flags = list.map((a) => {
      const s = this.seen.get(a.topic);
      return { ok: s?.payload === a.available, seq: s && (s.payload === a.available || s.payload === a.notAvailable) ? s.seq : -1 };
    });
    const mode = (c['availability_mode'] as string) ?? 'latest';
    if (mode === 'all') return flags.every((f) => f.ok);
    if (mode === 'any') return flags.some((f) => f.ok);
    const latest = flags.reduce((a, b) => (b.seq > a.seq ? b : a));
    return latest.seq >= 0 && latest.ok;
  }

  uniqueIds(): string[] {
    return this.entities().map((e) => e.config['unique_id'] as string);
  }
}

/** A Home Assistant model fed by a live subscription (retained messages first, then everything published). */
export async function watch(url: string, prefix: string, filters: string[]): Promise<{ ha: HomeAssistantModel; client: MqttClient }> {
  const ha = new HomeAssistantModel(prefix);
  const client = mqtt.connect(url, { reconnectPeriod: 200 });
  client.on('message', (t, p) => ha.feed(t, p.toString()));
  await new Promise<void>((r) => client.once('connect', () => r()));
  await new Promise<void>((r) => client.subscribe(filters, { qos: 1 }, () => r()));
  return { ha, client };
}

/** Every retained message under `filter` as a fresh subscriber (a Home Assistant starting now) gets them. The
 * broker sends a subscription's retained messages before anything published after it, so a message this client
 * sends itself after subscribing marks the end of them. */
export async function retained(url: string, filter: string): Promise<Map<string, string>> {
  const client = mqtt.connect(url, { reconnectPeriod: 0 });
  const out = new Map<string, string>();
  const mark = `gantry-test/sync/${Math.random().toString(36).slice(2)}`;
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      client.once('connect', () => resolve());
    });
    const done = new Promise<void>((resolve) => {
      client.on('message', (t, p, packet) => {
        if (t === mark) resolve();
        else if (packet.retain) out.set(t, p.toString());
      });
    });
    await new Promise<void>((r) => client.subscribe([filter, mark], { qos: 1 }, () => r()));
    client.publish(mark, 'x', { qos: 1 });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no retained messages under ${filter} within 10 s`)), 10_000)))]);
    clearTimeout(timer);
    return out;
  } finally {
    client.end(true);
  }
}

/** Every unique_id in the discovery configs among `messages`, under any prefix (device components and entities). */
export function uniqueIdsIn(messages: Map<string, string>): string[] {
  const ids: string[] = [];
  for (const [t, p] of messages) {
    if (!t.endsWith('/config') || p === '') continue;
    const cfg = JSON.parse(p) as Record<string, unknown>;
    const comps = (cfg['components'] ?? cfg['cmps']) as Record<string, Record<string, unknown>> | undefined;
    if (comps) for (const c of Object.values(comps)) ids.push(c['unique_id'] as string);
    else ids.push(cfg['unique_id'] as string);
  }
  return ids;
}

/** The discovery configs among retained messages, as a model (availability from the same messages). */
export function modelOf(messages: Map<string, string>, prefix: string): HomeAssistantModel {
  const ha = new HomeAssistantModel(prefix);
  for (const [t, p] of messages) ha.feed(t, p);
  return ha;
}
