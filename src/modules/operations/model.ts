import { Type } from "@sinclair/typebox";

export const Health = Type.Object({ status: Type.Literal("ok") });

export const Readiness = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("unavailable"), Type.Literal("draining")], {
    description: "draining: shutting down, send no new requests",
  }),
  checks: Type.Object({
    database: Type.Union([Type.Literal("ok"), Type.Literal("unavailable"), Type.Literal("storage_full")], {
      description: "storage_full: the database's disk has too little room left to write",
    }),
  }),
});

export const operationsModels = { Health, Readiness };
