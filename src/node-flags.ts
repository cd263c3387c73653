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
 * - `MALLOC_MMAP_THRESHOLD_=131072`: allocations of 128 KB or more get their own mapping, returned to the OS when
 *   freed; smaller ones come from glibc's arena (and glibc's own threshold, which climbs to 32 MB after the first
 *   large free, stays put). Node's HTTP parser copies each piece of a request body into a fresh buffer of up to
 *   64 KB. With the threshold at 32 KB each of those was a mapping of its own: an mmap, 16 page faults and a munmap
 *   per piece, 28 % of the main thread's time in a 100 MB upload (perf) and 3-4× the page faults. From the arena
 *   they are reused instead. What the 32 KB threshold was for, memory that comes back after a 500 MB upload, holds
 *   without it now that an upload frees its spent pieces every few MB (upload-sink.ts, GC_EVERY) and reads them
 *   without stream layers. `make bench`'s memory section, same machine and hour: 70 s after a 500 MB upload RSS is
 *   1.03× idle (peak 1.13×), with 32 KB 1.02× (peak 1.20×); after analysing 100 MB 1.01× (1.02×), after 20 prints
 *   1.04× (1.04×). Buffers of 128 KB and more still get mappings of their own.
 * - `MALLOC_TOP_PAD_=2097152` (HEAP_TOP_KEPT): when glibc gives the top of its heap back to the OS it keeps 2 MB
 *   (and grows it 2 MB at a time). An upload frees its spent body pieces together every HEAP_TOP_KEPT bytes
 *   (upload-sink.ts, GC_EVERY): at the default (128 KB kept) every such free handed their pages back and the next
 *   pieces faulted them in again, 16 page faults per 64 KB piece, which after the hash were the largest cost of an
 *   upload here (a fault costs microseconds in a VM). 100 MB into a fresh server, 6 runs each, interleaved, a GC
 *   every 4 MB: 6-7k page faults → ~3k, median 290 → 326 MB/s; 4 MB kept: 337 MB/s, but 70 s after 20 prints RSS
 *   was 1.10× idle, over the target; with 2 MB kept and a GC every 2 MB: 361 MB/s, ~2.5k faults. `make bench`, final:
 *   70 s after analysing 100 MB 1.03× idle, after a 500 MB upload 1.05×, after 20 prints 1.07× (target 1.10×);
 *   idle RSS ~0.8 MB higher.
 */
/** What glibc keeps of its heap's top (MALLOC_TOP_PAD_), and so how much an upload lets pile up before freeing it. */
export const HEAP_TOP_KEPT = 2 << 20;

export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TOP_PAD_: String(HEAP_TOP_KEPT) };
