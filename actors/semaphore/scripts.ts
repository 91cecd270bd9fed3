// The semaphore's Lua scripts, each with the SHA-1 Redis gives it (checked by tests/actors/semaphore-scripts).
import acquire from "./lua/acquire.lua" with { type: "text" };
import heartbeat from "./lua/heartbeat.lua" with { type: "text" };
import lib from "./lua/lib.lua" with { type: "text" };
import release from "./lua/release.lua" with { type: "text" };
import { luaScript } from "./lua-script.ts";

/** Lease helpers every semaphore script starts with (also prepended by the lane scripts). */
export const leaseLibrary = lib;

export const semaphoreScripts = {
  acquire: luaScript("acquire", acquire, "dd1719385016cce6a38da1b47f130210bab3679b", lib),
  heartbeat: luaScript("heartbeat", heartbeat, "3f5eff6c8d05696ce80f70b6b53430edaeff34d2", lib),
  release: luaScript("release", release, "27d672b1c26d8e7012bf6acf6e23075586e5ac95", lib),
} as const;
