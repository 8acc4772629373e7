// Fails when src/schema.d.ts is not what openapi-typescript makes of openapi/openapi.json
// today: a client generated from an older contract would type-check against the wrong
// API. Fix: `make client` (or `npm run generate` here) and commit the result.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const committed = join(root, "src", "schema.d.ts");
const scratch = mkdtempSync(join(tmpdir(), "pec-client-"));
const fresh = join(scratch, "schema.d.ts");
try {
  execFileSync(
    process.execPath,
    [
      join(root, "node_modules", "openapi-typescript", "bin", "cli.js"),
      join(root, "..", "..", "openapi", "openapi.json"),
      "--output",
      fresh,
    ],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
  );
  if (readFileSync(fresh, "utf8") !== readFileSync(committed, "utf8")) {
    console.error(
      "FAIL: clients/typescript/src/schema.d.ts is stale: openapi/openapi.json changed.\n" +
        "Regenerate it with `make client` and commit the result.",
    );
    process.exit(1);
  }
  console.log("clients/typescript/src/schema.d.ts matches openapi/openapi.json");
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
