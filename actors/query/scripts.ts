// The query actor's Lua script, with the SHA-1 Redis gives it (checked by tests/actors/semaphore-scripts).

import { luaScript } from "../semaphore/lua-script.ts";
import { leaseLibrary } from "../semaphore/scripts.ts";
import finish from "./lua/finish.lua" with { type: "text" };

export const queryScripts = {
  finish: luaScript("finish", finish, "1d5af98e4ccffd5ede0bc40411c40eccec209f11", leaseLibrary),
} as const;
