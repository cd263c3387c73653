/**
 * How Node runs Gantry (bin/gantry, systemd/gantry.service and `make run` pass the same flags).
 * A small young generation: streams (uploads, the camera) make many short-lived buffers, and V8 otherwise grows
 * its semi-spaces to 16 MB each before collecting them. Measured on a 500 MB upload: +37 MB RSS → +18 MB.
 * It has to be a command-line flag: V8 sizes the heap before any of our code runs.
 */
export const NODE_FLAGS = ['--max-semi-space-size=1'];
