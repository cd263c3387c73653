// The G-code Gantry sends around a job: pausing (retract, lift, park), resuming (back to where it was) and
// cancelling (retract, lift, park, heaters and fans off, motors off). Users can replace them in settings;
// {placeholders} are filled from the printer profile and the state at pause time.

export interface JobScripts {
  pause: string[];
  resume: string[];
  cancel: string[];
}

export function defaultScripts(): JobScripts {
  return {
    pause: ['M83', 'G1 E-2 F2700', 'G90', 'G1 Z{lift_z} F600', 'G1 X{park_x} Y{park_y} F6000'],
    resume: [],
    cancel: ['M83', 'G1 E-2 F2700', 'G90', 'G1 Z{lift_z} F600', 'G1 X{park_x} Y{park_y} F6000', 'M104 S0', 'M140 S0', 'M106 S0', 'M84'],
  };
}

export function fill(lines: string[], values: Record<string, number | string>): string[] {
  return lines.map((l) => l.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m))).filter((l) => l.trim() !== '');
}

export interface Volume {
  width: number;
  depth: number;
  height: number;
}

/**
 * Where pause, cancel and timelapse scripts park the head: near the front left corner and 10 mm above the print,
 * always inside both the printer profile's volume and the travel the firmware itself reports (Marlin's `area:`),
 * whichever is smaller. (A 220 mm default profile on a 200 mm bed parked at Y215, outside the machine.)
 */
export function parkPlaceholders(profile: Volume, area: { max: { x: number; y: number; z: number } } | undefined, z: number): Record<string, number> {
  const maxX = Math.min(profile.width, area?.max.x ?? Infinity);
  const maxY = Math.min(profile.depth, area?.max.y ?? Infinity);
  const maxZ = Math.min(profile.height, area?.max.z ?? Infinity);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    lift_z: round(Math.max(0, Math.min(maxZ, z + 10))),
    park_x: round(Math.max(0, Math.min(maxX, 5))),
    park_y: round(Math.max(0, maxY - 5)),
  };
}
