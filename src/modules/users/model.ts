import { type Static, Type } from "@sinclair/typebox";
import { t } from "elysia";
import { EXAMPLE_ID, EXAMPLE_TIME } from "../../platform/examples.ts";
import { Metadata } from "../../platform/metadata.ts";
import {
  ERROR_CODE_KEYWORD,
  listQuery,
  modelId,
  NullableTimestamp,
  Page,
  Timestamp,
  Uuid,
  withExamples,
} from "../../platform/schemas.ts";

/** Surrounding white space is allowed here and trimmed by the service. */
export const Email = Type.String({
  maxLength: 254,
  pattern: "^\\s*[^\\s@]+@[^\\s@]+\\.[^\\s@]+\\s*$",
  [ERROR_CODE_KEYWORD]: "invalid_email",
  description: "an e-mail address",
});

export const PersonName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: "\\S",
  description: "1-200 characters",
});

export const User = withExamples(
  Type.Object(
    {
      id: Uuid,
      email: Type.String(),
      name: Type.String(),
      metadata: Metadata,
      createdAt: Timestamp,
      updatedAt: Timestamp,
      deletedAt: NullableTimestamp,
    },
    { $id: modelId("User") },
  ),
  [
    {
      id: EXAMPLE_ID.user,
      email: "ana.lim@example.com",
      name: "Ana Lim",
      metadata: { costCentre: "ops-sg" },
      createdAt: EXAMPLE_TIME.created,
      updatedAt: EXAMPLE_TIME.created,
      deletedAt: null,
    },
  ],
);
export type User = Static<typeof User>;

export const CreateUser = withExamples(
  Type.Object(
    { email: Email, name: PersonName, metadata: Type.Optional(Metadata) },
    { additionalProperties: false },
  ),
  [
    { email: "ana.lim@example.com", name: "Ana Lim" },
    { email: "ana.lim@example.com", name: "Ana Lim", metadata: { employeeId: "E-1042" } },
  ],
);
export type CreateUser = Static<typeof CreateUser>;

export const UpdateUser = withExamples(
  Type.Object(
    { email: Type.Optional(Email), name: Type.Optional(PersonName), metadata: Type.Optional(Metadata) },
    { additionalProperties: false, minProperties: 1, description: "At least one field to change" },
  ),
  [{ name: "Ana Lim Wei Ling" }, { email: "ana@lim.example" }, { metadata: { employeeId: "E-2077" } }],
);
export type UpdateUser = Static<typeof UpdateUser>;

export const USER_SORT_FIELDS = ["createdAt", "updatedAt", "email", "name"] as const;
export type UserSortField = (typeof USER_SORT_FIELDS)[number];

export const ListUsersQuery = listQuery(USER_SORT_FIELDS, {
  email: t.Optional(t.String({ maxLength: 254, description: "exact e-mail, any case" })),
});
export type ListUsersQuery = Static<typeof ListUsersQuery>;

export const usersModels = { User, UserPage: Page(User, "A page of users") };
