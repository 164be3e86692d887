// Helpers shared by provider.js, stub.js and echo.js (no dependencies).

export const DEBUG = process.env.OA2F_SERVER_DEBUG === '1';

export function debug(name, line) {
  if (DEBUG) process.stderr.write(`[${name}] ${line}\n`);
}

export function envPort(variable, fallback) {
  const port = Number(process.env[variable] || fallback);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error(`${variable} is not a valid port: ${process.env[variable]}`);
  }
  return port;
}

// Exit after OA2F_SERVER_LIFETIME seconds (default 1800), and as soon as the
// process named by OA2F_PARENT_PID (when set) is gone (checked every 2 s).
export function selfTerminate(name) {
  const lifetime = Number(process.env.OA2F_SERVER_LIFETIME || 1800);
  setTimeout(() => {
    debug(name, `lifetime of ${lifetime}s reached, exiting`);
    process.exit(0);
  }, lifetime * 1000).unref();

  const parent = Number(process.env.OA2F_PARENT_PID || 0);
  if (parent > 0) {
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch (err) {
        if (err.code === 'EPERM') return; // exists, owned by someone else
        debug(name, `parent ${parent} is gone, exiting`);
        process.exit(0);
      }
    }, 2000).unref();
  }

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
    process.on(sig, () => process.exit(0));
  }
}

// Per-path request counter.
export class Counter {
  constructor() { this.requests = {}; }

  hit(path) { this.requests[path] = (this.requests[path] || 0) + 1; }
}

// Log one line per finished request (only with OA2F_SERVER_DEBUG=1).
export function logRequests(name, req, res) {
  if (!DEBUG) return;
  const started = Date.now();
  res.on('close', () => {
    debug(name, `${req.method} ${req.url.replace(/\?.*/, '?…')} -> ${res.statusCode} ${Date.now() - started}ms`);
  });
}
