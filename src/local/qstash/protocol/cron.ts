import { Cron } from "croner";

/** A parsed `Upstash-Cron` schedule. */
export interface CronSchedule {
  /** The next fire time strictly after `afterMs` (epoch ms), or undefined when there is none. */
  nextAfter(afterMs: number): number | undefined;
}

export type CronParse = { ok: true; schedule: CronSchedule } | { ok: false; error: string };

/**
 * Parses a cron expression: five fields (minute hour day month weekday) as QStash takes, or six with a
 * leading seconds field (a local extension, handy in tests), optionally prefixed by `CRON_TZ=<IANA zone>`
 * (or `TZ=`). Without a zone, times are UTC.
 *
 * @example parseCron("CRON_TZ=Europe/Paris 0 9 * * 1-5")
 */
export function parseCron(text: string): CronParse {
  let pattern = text.trim();
  let timezone = "UTC";
  const zone = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(pattern);
  if (zone !== null) {
    timezone = zone[1] as string;
    pattern = pattern.slice(zone[0].length);
    try {
      new Intl.DateTimeFormat("en", { timeZone: timezone });
    } catch {
      return { ok: false, error: `unknown time zone "${timezone}"` };
    }
  }
  let cron: Cron;
  try {
    cron = new Cron(pattern, { paused: true, timezone, mode: "5-or-6-parts" });
  } catch (error) {
    return { ok: false, error: (error as Error).message.replace(/^CronPattern: /, "") };
  }
  return {
    ok: true,
    schedule: {
      nextAfter(afterMs) {
        return cron.nextRun(new Date(afterMs))?.getTime();
      },
    },
  };
}
