// The warehouse's speed limit for bulk loads: `psql \copy` of a CSV file straight into ad_events, with no
// Fairway code in the way. Benches compare their own write paths with it.
import { spawn } from "node:child_process";

const AD_EVENT_COLUMNS = "tenant_id, event_id, ts, kind, channel, campaign, ad, country, city, cost, revenue";

/** Runs `\copy ad_events (…) FROM file` with psql against `databaseUrl`; rejects with psql's stderr. */
export function psqlCopyAdEvents(databaseUrl: string, file: string): Promise<void> {
  const url = new URL(databaseUrl);
  return new Promise<void>((resolve, reject) => {
    const psql = spawn(
      "psql",
      [
        "-h",
        url.hostname,
        "-p",
        url.port || "5432",
        "-U",
        decodeURIComponent(url.username) || "postgres",
        "-d",
        url.pathname.slice(1),
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        `\\copy ad_events (${AD_EVENT_COLUMNS}) FROM '${file}' WITH (FORMAT csv)`,
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) },
      },
    );
    let stderr = "";
    psql.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    psql.on("error", reject);
    psql.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`psql \\copy failed: ${stderr.trim()}`)),
    );
  });
}
