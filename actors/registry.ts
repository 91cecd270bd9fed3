// Every actor the host serves. A new actor: a file under actors/ and one line here.
import type { AnyActor } from "./define.ts";
import { ingestActor } from "./ingest.ts";
import { pingActor } from "./ping.ts";
import { tenantSyncActor } from "./tenant-sync.ts";

export const actors: readonly AnyActor[] = [pingActor, tenantSyncActor, ingestActor];
