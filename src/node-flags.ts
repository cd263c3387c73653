/**
 * How Node runs Gantry (bin/gantry, systemd/gantry.service, `make run`, `make test` and `make bench` pass the same flags).
 * They have to be command-line flags: V8 sizes its heap and threads before any of our code runs.
 *
 * - `--max-semi-space-size=1`: streams (uploads, the camera) make many short-lived buffers, and V8 otherwise
 *   grows its semi-spaces to 16 MB each before collecting them. Measured on a 500 MB upload: +37 MB RSS → +18 MB.
 * - `--optimize-for-size`: V8 grows the heap in smaller steps and compacts sooner.
 * - `--single-threaded`: no background GC or compiler threads; each of those kept its own malloc arena and
 *   buffers. The heap is ~10 MB, so the work they take off the main thread is a few ms.
 * Together the last two cut idle RSS by ~3.5 MB (63.5 → 60.0 MB here); the serial rate, its ok→next-line
 * latency and the analysis throughput did not change beyond run-to-run noise (`make bench`).
 */
export const NODE_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size', '--single-threaded'];

/**
 * The environment Gantry runs with (bin/gantry, systemd/gantry.service and the Makefile set the same; the bench and
 * tests that start `gantry serve` pass it on). Also not settable from inside: glibc reads it when the process starts.
 *
 * - `MALLOC_MMAP_THRESHOLD_=32768`: every allocation of 32 KB or more gets its own mapping, returned to the OS when
 *   freed. Node's HTTP parser copies each piece of a request body into a fresh Buffer (up to 64 KB, usually just
 *   under), and V8 frees them only when it collects those Buffers: by then small long-lived allocations sit above
 *   them in glibc's arena, which gives back only its top (and glibc's own threshold climbs to 32 MB after the first
 *   large free). Measured 30-70 s after a 500 MB upload: the main arena stayed 6-20 MB larger (RSS 68-75 MB against
 *   60 MB idle); with 64 KB here still 5-13 MB (the copies are just under it); with 32 KB 0-4.5 MB (61-67 MB).
 *   The upload took as long.
 */
export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '32768' };
