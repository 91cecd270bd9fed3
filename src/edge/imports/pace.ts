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
  /**
   * The longest one wait lasts: the body is not read meanwhile, and the server drops a connection silent for
   * 10 s. A wait in which the import did not move at all (actors down, a lane held) ends the pacing: the rest
   * is queued as fast as it comes, as unpaced.
   */
  maxWaitMs: number;
}

export const DEFAULT_PACE: PaceSettings = { leadChunks: 200, pollMs: 200, maxWaitMs: 5_000 };

export class ImportPace {
  private landed = 0;
  private gaveUp = false;

  constructor(
    private readonly redis: ImportRedis,
    private readonly tenantId: string,
    private readonly importId: string,
    private readonly settings: PaceSettings = DEFAULT_PACE,
  ) {}

  /** Waits, at most `maxWaitMs`, while `queued` chunks are more than the lead ahead of the import. */
  async ahead(queued: number): Promise<void> {
    const deadline = performance.now() + this.settings.maxWaitMs;
    let moved = false;
    while (!this.gaveUp && queued - this.landed > this.settings.leadChunks) {
      if (performance.now() >= deadline) {
        this.gaveUp = !moved;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, this.settings.pollMs));
      const done = (await readImport(this.redis, this.tenantId, this.importId))?.chunksDone ?? 0;
      if (done > this.landed) {
        this.landed = done;
        moved = true;
      }
    }
  }
}
