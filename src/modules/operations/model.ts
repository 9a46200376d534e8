import { Type } from "@sinclair/typebox";

export const Health = Type.Object({ status: Type.Literal("ok") });

export const Readiness = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("unavailable"), Type.Literal("draining")], {
    description: "draining: shutting down, send no new requests",
  }),
  checks: Type.Object({ database: Type.Union([Type.Literal("ok"), Type.Literal("unavailable")]) }),
});

export const operationsModels = { Health, Readiness };
