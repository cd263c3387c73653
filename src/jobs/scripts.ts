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
