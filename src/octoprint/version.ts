/** The OctoPrint version Gantry answers as, on every surface that names one (/api/version and /api/server, the push
 * socket's connected message, mDNS TXT records): slicers require /api/version's `text` to start with "OctoPrint",
 * and clients compare the bare version. */
export const OCTOPRINT_COMPAT_VERSION = '1.11.8';
