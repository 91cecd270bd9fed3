// The lane scripts: the tenant's FIFO lane over its semaphore, and the fair-share warehouse semaphore. Each
// has the SHA-1 Redis gives it (checked by tests/actors/semaphore-scripts).

import { luaScript } from "../semaphore/lua-script.ts";
import { leaseLibrary } from "../semaphore/scripts.ts";
import laneLib from "./lua/lib.lua" with { type: "text" };
import tenantAcquire from "./lua/tenant-acquire.lua" with { type: "text" };
import tenantPark from "./lua/tenant-park.lua" with { type: "text" };
import tenantRelease from "./lua/tenant-release.lua" with { type: "text" };
import tenantWarehouseGranted from "./lua/tenant-warehouse-granted.lua" with { type: "text" };
import tenantYield from "./lua/tenant-yield.lua" with { type: "text" };
import warehouseAcquire from "./lua/warehouse-acquire.lua" with { type: "text" };
import warehouseClaim from "./lua/warehouse-claim.lua" with { type: "text" };
import warehouseLib from "./lua/warehouse-lib.lua" with { type: "text" };
import warehouseRelease from "./lua/warehouse-release.lua" with { type: "text" };

const tenant = `${leaseLibrary}\n${laneLib}`;
const warehouse = `${leaseLibrary}\n${warehouseLib}`;

export const laneScripts = {
  tenantAcquire: luaScript(
    "tenant-acquire",
    tenantAcquire,
    "27cd1521ef5fd9b897108e4c2d30e672eea8872a",
    tenant,
  ),
  tenantYield: luaScript("tenant-yield", tenantYield, "8f7ff8cd193c5b0bd6ac99a47952ab6ca386feb7", tenant),
  tenantPark: luaScript("tenant-park", tenantPark, "17ba7d1741f058b7e415d5e96d2ccb2f467ad304", tenant),
  tenantRelease: luaScript(
    "tenant-release",
    tenantRelease,
    "f4d61630dfca17ff09eee6bbb7a609aeae19a9f2",
    tenant,
  ),
  tenantWarehouseGranted: luaScript(
    "tenant-warehouse-granted",
    tenantWarehouseGranted,
    "aead66497844178eccd5793c3f24e4b882d1ffe4",
  ),
  warehouseAcquire: luaScript(
    "warehouse-acquire",
    warehouseAcquire,
    "d3349abdf12c38acf423c5ae65849b128cf51e81",
    warehouse,
  ),
  warehouseRelease: luaScript(
    "warehouse-release",
    warehouseRelease,
    "7845f21374de99b4539cc028ef899e173b9a61f1",
    warehouse,
  ),
  warehouseClaim: luaScript(
    "warehouse-claim",
    warehouseClaim,
    "0930c792a6d45b9d85e78f5337c3389628a43f96",
    leaseLibrary,
  ),
} as const;
