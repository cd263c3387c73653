// A whole Gantry with MQTT on, against a Mosquitto of its own: configured the way a user does it, in the settings.
import assert from 'node:assert/strict';
import { type GantryRig, gantryRig, waitOperational } from './gantry-rig.js';
import { Mosquitto } from './mosquitto.js';
import { tempDir } from './tmp.js';
import { waitFor } from './wait.js';

export interface MqttRig {
  broker: Mosquitto;
  rig: GantryRig;
  /** a directory for the test's own files (another broker's config) */
  dir: string;
  close(): Promise<void>;
}

/** `simArgs`: flags for every printer's simulator (a speed factor). Resolves with the bridge connected. */
export async function mqttRig(simArgs: string[] = []): Promise<MqttRig> {
  const { dir, cleanup } = await tempDir();
  let broker: Mosquitto | undefined;
  let rig: GantryRig | undefined;
  const close = async () => {
    await rig?.close();
    await broker?.stop();
    await cleanup();
  };
  try {
    broker = await Mosquitto.start(dir);
    rig = await gantryRig({}, {}, simArgs);
    await waitOperational(rig);
    const res = await rig.api('/api/settings', { method: 'POST', json: { gantry: { mqtt: { url: broker.url } } } });
    assert.equal(res.status, 200);
    await rig.gantry.mqttSettled();
    const r = rig;
    await waitFor('bridge connected', () => r.gantry.mqtt()?.connected);
    return { broker, rig, dir, close };
  } catch (err) {
    await close();
    throw err;
  }
}
