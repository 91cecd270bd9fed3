import { connect, createServer } from "node:net";

/** Asks the OS for a port nobody listens on (bind to port 0, read it back, release it). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port the OS assigned"));
      });
    });
  });
}

/** True when nothing listens on `port` (we can bind it ourselves). */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export interface PortChoice {
  port: number;
  /** True when the preferred port was taken and another one was picked. */
  moved: boolean;
}

/** The preferred port when it is free, else a free one chosen by the OS. */
export async function choosePort(preferred: number, host = "127.0.0.1"): Promise<PortChoice> {
  if (preferred !== 0 && (await isPortFree(preferred, host))) return { port: preferred, moved: false };
  return { port: await freePort(host), moved: preferred !== 0 };
}

/** True when something accepts TCP connections on host:port within `timeoutMs`. */
export function canConnect(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
