// Keeps an upload a bounded distance ahead of its import. Unpaced, a file is read and queued as fast as the
// network brings it (80 MB in a few seconds), and that burst through the edge, the broker and Redis is felt by
// every other tenant on them; paced, the queue holds a few seconds of the import's work and the edge reads the
// rest as the warehouse lands it. The distance is measured from the import's status record.
import { type ImportRedis, readImport } from "../../domain/imports/redis.ts";

export interface PaceSettings {
  /** Chunks the upload may queue beyond those the import has landed. */
  leadChunks: number;
  /** How often the import's progress is read while the upload waits. */
  pollMs: number;
  /** No progress for this long (actors down, a lane held): stop waiting and queue the rest, as unpaced. */
  stallMs: number;
}

export const DEFAULT_PACE: PaceSettings = { leadChunks: 200, pollMs: 200, stallMs: 5_000 };

export class ImportPace {
  private landed = 0;
  private movedAt: number | undefined;
  private gaveUp = false;

  constructor(
    private readonly redis: ImportRedis,
    private readonly tenantId: string,
    private readonly importId: string,
    private readonly settings: PaceSettings = DEFAULT_PACE,
  ) {}

  /** Waits while `queued` chunks are more than the lead ahead of the import, unless the import has stalled. */
  async ahead(queued: number): Promise<void> {
    while (!this.gaveUp && queued - this.landed > this.settings.leadChunks) {
      this.movedAt ??= Date.now();
      await new Promise((resolve) => setTimeout(resolve, this.settings.pollMs));
      const done = (await readImport(this.redis, this.tenantId, this.importId))?.chunksDone ?? 0;
      if (done > this.landed) {
        this.landed = done;
        this.movedAt = Date.now();
      } else if (Date.now() - this.movedAt > this.settings.stallMs) {
        this.gaveUp = true;
      }
    }
  }
}
