import { Type } from "@sinclair/typebox";
import { literalUnion } from "../../platform/literals.ts";
import { withExamples } from "../../platform/schemas.ts";

export const Health = withExamples(Type.Object({ status: literalUnion(["ok"]) }), [{ status: "ok" }]);

export const Readiness = withExamples(
  Type.Object({
    status: literalUnion(["ok", "unavailable", "draining"], {
      description: "draining: shutting down, send no new requests",
    }),
    checks: Type.Object({
      database: literalUnion(["ok", "unavailable", "storage_full"], {
        description: "storage_full: the database's disk has too little room left to write",
      }),
      replica: literalUnion(["ok", "lagging", "unavailable", "off"], {
        description:
          "the read replica (DATABASE_READ_URL): lagging past DATABASE_READ_MAX_LAG_MS or unavailable, reads go to the primary; off: none configured",
      }),
    }),
  }),
  [
    { status: "ok", checks: { database: "ok", replica: "ok" } },
    { status: "unavailable", checks: { database: "storage_full", replica: "off" } },
  ],
);

export const operationsModels = { Health, Readiness };
