/** Where and how to connect, from a `redis://[user:pass@]host:port[/db]` URL. */
export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
}

export function parseRedisUrl(url: string): RedisTarget {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") {
    throw new Error(`Unsupported Redis URL scheme "${parsed.protocol}" (expected redis://)`);
  }
  const dbText = parsed.pathname.replace(/^\//, "");
  const db = dbText === "" ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new Error(`Invalid Redis database "${dbText}" in URL`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1";
  return {
    host,
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    username: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === "" ? undefined : decodeURIComponent(parsed.password),
    db,
  };
}

/** The commands that prepare a fresh connection for `target` (AUTH, SELECT). */
export function handshakeCommands(target: RedisTarget): string[][] {
  const commands: string[][] = [];
  if (target.password !== undefined) {
    commands.push(
      target.username !== undefined ? ["AUTH", target.username, target.password] : ["AUTH", target.password],
    );
  }
  if (target.db !== 0) commands.push(["SELECT", String(target.db)]);
  return commands;
}
