import { Type } from "@sinclair/typebox";
import { literalUnion } from "../../platform/literals.ts";

export const Health = Type.Object({ status: literalUnion(["ok"]) });

export const Readiness = Type.Object({
  status: literalUnion(["ok", "unavailable", "draining"], {
    description: "draining: shutting down, send no new requests",
  }),
  checks: Type.Object({
    database: literalUnion(["ok", "unavailable", "storage_full"], {
      description: "storage_full: the database's disk has too little room left to write",
    }),
  }),
});

export const operationsModels = { Health, Readiness };
