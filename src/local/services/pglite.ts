// Embedded Postgres for machines without a Postgres server: PGlite (Postgres compiled to WebAssembly)
// behind a TCP socket, so postgres.js, drizzle and psql connect to it like to any server.
import { createServer, type Server, type Socket } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler, PGLiteSocketServer } from "@electric-sql/pglite-socket";

// PGLiteSocketServer is not used: it answers a second concurrent connection with "Too many connections"
// and hangs up, so a client that arrives while another is connected fails (postgres.js: ECONNRESET).
// We reuse its per-connection protocol handler and queue connections instead: PGlite has one session,
// each client owns it while connected, the next one waits its turn.
type QueryQueue = ConstructorParameters<typeof PGLiteSocketHandler>[0]["queryQueue"];

export interface PgliteOptions {
  /** Directory holding the database files; undefined keeps everything in memory. */
  dataDir?: string;
  host?: string;
  /** 0 (default) lets the OS choose. */
  port?: number;
}

export interface PgliteServer {
  /** `postgres://postgres@host:port/postgres`: PGlite has a single database. */
  url: string;
  port: number;
  /** Clients waiting for their turn. */
  waiting(): number;
  stop(): Promise<void>;
}

export async function startPglite(options: PgliteOptions = {}): Promise<PgliteServer> {
  const host = options.host ?? "127.0.0.1";
  const db = new PGlite(options.dataDir);
  await db.waitReady;
  const queryQueue = createQueryQueue(db);

  const queue: Socket[] = [];
  let current: PGLiteSocketHandler | undefined;
  let stopping = false;

  const attachNext = async (): Promise<void> => {
    while (current === undefined && queue.length > 0 && !stopping) {
      const socket = queue.shift() as Socket;
      if (socket.destroyed) continue;
      const handler = new PGLiteSocketHandler({ queryQueue, closeOnDetach: true });
      current = handler;
      const release = () => {
        if (current !== handler) return;
        current = undefined;
        void attachNext();
      };
      handler.addEventListener("close", release);
      handler.addEventListener("error", release);
      try {
        await handler.attach(socket);
        socket.resume();
      } catch {
        socket.destroy();
        release();
      }
    }
  };

  const server = createServer((socket) => {
    // Hold the client's bytes (its startup message) in the socket until its turn comes.
    socket.pause();
    socket.once("close", () => {
      const index = queue.indexOf(socket);
      if (index >= 0) queue.splice(index, 1);
    });
    queue.push(socket);
    void attachNext();
  });
  const port = await listen(server, options.port ?? 0, host);

  return {
    url: `postgres://postgres@${host}:${port}/postgres`,
    port,
    waiting: () => queue.length,
    async stop() {
      stopping = true;
      for (const socket of queue.splice(0)) socket.destroy();
      if (current) await current.detach(true);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}

/**
 * The package's query queue feeds PGlite one protocol message at a time. Its class is not exported, so we
 * take the one a (never started) PGLiteSocketServer builds for the same database.
 */
function createQueryQueue(db: PGlite): QueryQueue {
  const unstarted = new PGLiteSocketServer({ db }) as unknown as { queryQueue: QueryQueue };
  return unstarted.queryQueue;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const address = server.address();
      if (address && typeof address === "object") resolve(address.port);
      else reject(new Error("PGlite socket: no TCP address"));
    });
  });
}
