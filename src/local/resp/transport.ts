import { connect as netConnect } from "node:net";

/** The byte pipe under a RespConnection. */
export interface Transport {
  write(data: string | Buffer): void;
  /** Closes the pipe; `onClose` fires once afterwards. */
  close(): void;
}

export interface TransportEvents {
  onData(chunk: Buffer): void;
  onClose(error: Error | undefined): void;
}

export type TransportKind = "bun" | "node";

export function openTransport(
  kind: TransportKind,
  host: string,
  port: number,
  events: TransportEvents,
): Promise<Transport> {
  return kind === "bun" ? openBunSocket(host, port, events) : openNodeSocket(host, port, events);
}

function openNodeSocket(host: string, port: number, events: TransportEvents): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port, noDelay: true });
    let connected = false;
    let failure: Error | undefined;
    socket.once("connect", () => {
      connected = true;
      resolve({
        write: (data) => {
          socket.write(data);
        },
        close: () => {
          socket.destroy();
        },
      });
    });
    socket.on("data", events.onData);
    socket.on("error", (error) => {
      failure = error;
      if (!connected) reject(error);
    });
    socket.on("close", () => {
      if (connected) events.onClose(failure);
    });
  });
}

/** Bun's native socket: fewer layers than node:net. Partial writes are queued until `drain`. */
async function openBunSocket(host: string, port: number, events: TransportEvents): Promise<Transport> {
  let backlog: Buffer[] = [];
  let closed = false;
  let failure: Error | undefined;
  const socket = await Bun.connect({
    hostname: host,
    port,
    socket: {
      binaryType: "buffer",
      data(_socket, chunk) {
        events.onData(chunk);
      },
      drain(socket) {
        while (backlog.length > 0) {
          const head = backlog[0] as Buffer;
          const written = socket.write(head);
          if (written < head.length) {
            backlog[0] = head.subarray(Math.max(written, 0));
            return;
          }
          backlog.shift();
        }
      },
      error(_socket, error) {
        failure = error;
      },
      close() {
        if (closed) return;
        closed = true;
        backlog = [];
        events.onClose(failure);
      },
    },
  });
  socket.setNoDelay(true);
  return {
    write(data) {
      if (backlog.length > 0) {
        backlog.push(typeof data === "string" ? Buffer.from(data) : data);
        return;
      }
      const written = socket.write(data);
      const total = typeof data === "string" ? Buffer.byteLength(data) : data.length;
      if (written < total) {
        const bytes = typeof data === "string" ? Buffer.from(data) : data;
        backlog.push(bytes.subarray(Math.max(written, 0)));
      }
    },
    close() {
      socket.end();
      // end() alone waits for the peer; the RESP protocol has nothing left to say.
      socket.terminate();
    },
  };
}
