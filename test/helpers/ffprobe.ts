// What ffprobe says about a video: codec, size, and the frames it actually decodes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface VideoInfo {
  codec: string;
  width: number;
  height: number;
  frames: number;
  duration: number;
}

export async function probeVideo(path: string): Promise<VideoInfo> {
  const { stdout } = await promisify(execFile)('ffprobe', [
    '-v', 'error', '-count_frames', '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-show_entries', 'format=duration', '-of', 'json', path,
  ]);
  const j = JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[]; format: { duration: string } };
  const s = j.streams[0]!;
  return { codec: s.codec_name, width: s.width, height: s.height, frames: Number(s.nb_read_frames), duration: Number(j.format.duration) };
}

/** `n` test-pattern JPEGs named frame-000001.jpg … in `dir`. */
export async function makeFrames(dir: string, n: number, size = '320x240'): Promise<void> {
  await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=15`, '-frames:v', String(n), '-q:v', '5', `${dir}/frame-%06d.jpg`]);
}
