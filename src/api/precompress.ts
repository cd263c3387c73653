// Build step (make build): copies uPlot into public/vendor/ and writes brotli (.br) and gzip (.gz) copies of the
// page's text files beside them, so Gantry serves the smallest bytes without compressing at run time (brotli at
// its best quality costs several MB of memory that a 512 MB board keeps for good once used).
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.webmanifest', '.json']);

export async function precompress(publicDir: string, nodeModules: string): Promise<string[]> {
  await mkdir(join(publicDir, 'vendor'), { recursive: true });
  await copyFile(join(nodeModules, 'uplot/dist/uPlot.iife.min.js'), join(publicDir, 'vendor/uplot.js'));
  await copyFile(join(nodeModules, 'uplot/dist/uPlot.min.css'), join(publicDir, 'vendor/uplot.css'));
  const done: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'src') await walk(abs);
      } else if (COMPRESSIBLE.has(extname(e.name))) {
        const body = await readFile(abs);
        await writeFile(`${abs}.br`, brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }));
        await writeFile(`${abs}.gz`, gzipSync(body, { level: 9 }));
        done.push(abs);
      }
    }
  };
  await walk(publicDir);
  return done;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const files = await precompress(join(repo, 'public'), join(repo, 'node_modules'));
  console.log(`precompressed ${files.length} files of the web page`);
}
