import { type Static, Type } from "@sinclair/typebox";
import { EXAMPLE_TIME } from "../../platform/examples.ts";
import { literalUnion } from "../../platform/literals.ts";
import { modelId, Timestamp, withExamples } from "../../platform/schemas.ts";

export const ON_TIMEOUT = ["approve", "decline"] as const;
export type OnTimeout = (typeof ON_TIMEOUT)[number];

const OnTimeoutSchema = literalUnion(ON_TIMEOUT, {
  description: "what an unanswered, failed or unreadable hook call decides: approve or decline",
});

export const HookUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: "an http or https URL; not a private address unless WEBHOOK_ALLOW_PRIVATE_TARGETS=true",
});

export const AuthorizationHook = withExamples(
  Type.Object(
    {
      url: Type.String(),
      timeoutMs: Type.Integer({ minimum: 100, maximum: 5000 }),
      onTimeout: OnTimeoutSchema,
      secret: Type.Optional(
        Type.String({
          description: "the signing secret (whsec_…), in the response that first sets the hook only",
        }),
      ),
      createdAt: Timestamp,
      updatedAt: Timestamp,
    },
    { $id: modelId("AuthorizationHook") },
  ),
  [
    {
      url: "https://cards.example.com/authorize",
      timeoutMs: 1500,
      onTimeout: "decline",
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      createdAt: EXAMPLE_TIME.created,
      updatedAt: EXAMPLE_TIME.created,
    },
  ],
);
export type AuthorizationHook = Static<typeof AuthorizationHook>;

export const SetAuthorizationHook = withExamples(
  Type.Object(
    {
      url: HookUrl,
      timeoutMs: Type.Optional(
        Type.Integer({ minimum: 100, maximum: 5000, default: 1500, description: "100-5000, default 1500" }),
      ),
      onTimeout: OnTimeoutSchema,
    },
    { additionalProperties: false },
  ),
  [{ url: "https://cards.example.com/authorize", timeoutMs: 1500, onTimeout: "decline" }],
);
export type SetAuthorizationHook = Static<typeof SetAuthorizationHook>;

export const authorizationHookModels = { AuthorizationHook };
