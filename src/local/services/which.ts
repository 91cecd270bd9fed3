import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The full path of `program` on PATH, or undefined: lets us say "install X" instead of failing on spawn. */
export function which(program: string, path = process.env.PATH ?? ""): string | undefined {
  if (program.includes("/")) return isExecutable(program) ? program : undefined;
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
