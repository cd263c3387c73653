// Lists serial devices that may be printers. Reads /dev directly: serialport's list() shells out to udevadm,
// which kills the process where udevadm is missing.
import { readdir, realpath } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const DEFAULT_PORT_GLOBS = ['/dev/serial/by-id/*', '/dev/ttyUSB*', '/dev/ttyACM*'];

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** Expands simple globs (`*`, `?` in the last path part) and drops aliases of the same device. */
export async function listCandidatePorts(globs: string[] = DEFAULT_PORT_GLOBS): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const glob of globs) {
    const dir = dirname(glob);
    const pattern = globToRegExp(basename(glob));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!pattern.test(name)) continue;
      const path = join(dir, name);
      let real: string;
      try {
        real = await realpath(path);
      } catch {
        continue; // dangling link: device just went away
      }
      if (seen.has(real)) continue;
      seen.add(real);
      found.push(path);
    }
  }
  return found;
}

/** The device a port path names (a /dev/serial/by-id link and /dev/ttyUSB0 are one device); the path itself for a
 * network target or a device that is not there. */
export async function deviceOf(port: string): Promise<string> {
  if (!port.startsWith('/')) return port;
  return realpath(port).catch(() => port);
}

/** `found` without the devices in `claimed` (paths or links to them). */
export async function withoutClaimed(found: string[], claimed: string[]): Promise<string[]> {
  if (claimed.length === 0) return found;
  const taken = new Set(await Promise.all(claimed.map(deviceOf)));
  const devices = await Promise.all(found.map(deviceOf));
  return found.filter((_, i) => !taken.has(devices[i]!));
}
