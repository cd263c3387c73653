// How a timelapse becomes a video (pure): frame rate, the concat list, and ffmpeg's arguments. The concat
// demuxer reads exactly the frames listed, so a missing or skipped frame does not end the video early (image2's
// %06d pattern stops at the first gap); tpad holds the last frame for the post-roll.

export interface RenderOptions {
  listFile: string;
  out: string;
  fps: number;
  postRoll: number;
  flipH: boolean;
  flipV: boolean;
  rotate90: boolean;
  encoder: 'libx264' | 'h264_v4l2m2m';
  preset: 'ultrafast' | 'superfast' | 'veryfast';
  threads: number;
}

/**
 * The x264 preset for this machine: veryfast peaks near 130-150 MB at 720p, too much beside everything else on a
 * 512 MB board, where ultrafast (about 75 MB) renders instead. Medium (about 226 MB) is never used.
 */
export function x264Preset(setting: 'auto' | RenderOptions['preset'], totalMemoryBytes: number): RenderOptions['preset'] {
  if (setting !== 'auto') return setting;
  return totalMemoryBytes <= 1024 * 1024 * 1024 ? 'ultrafast' : 'veryfast';
}

/** OctoPrint uses a fixed rate; fitting the video to a target length suits short and long prints alike. */
export function timelapseFps(frames: number, fps: number, targetSeconds: number): number {
  if (fps > 0) return fps;
  return Math.min(60, Math.max(5, Math.round(frames / Math.max(1, targetSeconds))));
}

/** The concat demuxer's list: one `file` line per frame, quoted the way the demuxer unquotes. Each frame's
 * duration comes from the input rate (`-r` before `-i`), so the video has exactly one picture per frame. */
export function concatList(files: string[]): string {
  return files.map((f) => `file '${f.replace(/'/g, "'\\''")}'\n`).join('');
}

export function renderArgs(o: RenderOptions): string[] {
  const filters = [
    // x264's yuv420p needs even dimensions; cameras with odd sizes exist
    'scale=trunc(iw/2)*2:trunc(ih/2)*2',
    ...(o.postRoll > 0 ? [`tpad=stop_mode=clone:stop_duration=${o.postRoll}`] : []),
    ...(o.flipH ? ['hflip'] : []),
    ...(o.flipV ? ['vflip'] : []),
    ...(o.rotate90 ? ['transpose=2'] : []), // counter-clockwise, as OctoPrint's rotate90
    'format=yuv420p',
  ];
  const codec =
    o.encoder === 'h264_v4l2m2m'
      ? ['-c:v', 'h264_v4l2m2m', '-b:v', '6M']
      : // veryfast + maxrate: 8.7 CPU-s and 150 MB for 300 noisy 720p frames here; medium needs ~226 MB (OOM on a Zero 2 W)
        ['-c:v', 'libx264', '-preset', o.preset, '-crf', '23', '-maxrate', '6M', '-bufsize', '12M', '-threads', String(o.threads)];
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1',
    '-f', 'concat', '-safe', '0', '-r', String(o.fps), '-i', o.listFile,
    '-vf', filters.join(','),
    ...codec,
    '-movflags', '+faststart', '-f', 'mp4', o.out,
  ];
}
