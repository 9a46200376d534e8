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
    }),
  }),
  [
    { status: "ok", checks: { database: "ok" } },
    { status: "unavailable", checks: { database: "storage_full" } },
  ],
);

export const operationsModels = { Health, Readiness };
