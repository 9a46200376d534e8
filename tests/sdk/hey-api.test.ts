/**
 * A client generated from the published document by @hey-api/openapi-ts (tests/sdk/hey-api, made by
 * `bun run openapi`) compiles under the project's strict TypeScript and drives the money flow, as a
 * client of the API would use it; the same runs through openapi-fetch in every other HTTP test.
 */
import { expect, test } from "bun:test";
import { TEST_ADMIN_KEY, uniqueEmail, useServer } from "../helpers/server.ts";
import { createClient, createConfig } from "./hey-api/client/index.ts";
import {
  addTeamMember,
  authorizeCardSpend,
  captureAuthorization,
  createCard,
  createTeam,
  createUser,
  createWallet,
  getWallet,
  listMemberships,
  topUpWallet,
} from "./hey-api/sdk.gen.ts";
import type { Membership } from "./hey-api/types.gen.ts";

const server = useServer();

test("a generated client makes a team, a member, a wallet and a card, tops up, holds and captures", async () => {
  const client = createClient(
    createConfig({ baseUrl: server.baseUrl, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }),
  );
  const options = { client, throwOnError: true } as const;
  const team = (
    await createTeam({ ...options, body: { name: `Generated ${crypto.randomUUID().slice(0, 8)}` } })
  ).data;
  const user = (await createUser({ ...options, body: { email: uniqueEmail("generated"), name: "Gen" } }))
    .data;
  // role is typed "admin" | "member": anything else would not compile.
  const role: Membership["role"] = "admin";
  const membership = (
    await addTeamMember({ ...options, path: { id: team.id }, body: { userId: user.id, role } })
  ).data;
  expect(membership.role).toBe("admin");
  const members = (await listMemberships({ ...options, query: { teamId: team.id } })).data;
  expect(members.data.map((member) => member.userId)).toEqual([user.id]);

  const wallet = (await createWallet({ ...options, body: { teamId: team.id } })).data;
  const card = (await createCard({ ...options, body: { walletId: wallet.id, cardholderId: user.id } })).data;
  await topUpWallet({
    ...options,
    path: { id: wallet.id },
    body: { amount: 20_000 },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
  const hold = (
    await authorizeCardSpend({
      ...options,
      path: { id: card.id },
      body: { amount: 8_000, merchant: { name: "Hotel" }, capture: false },
    })
  ).data;
  expect(hold.status).toBe("pending");
  const captured = (
    await captureAuthorization({ ...options, path: { id: hold.id }, body: { amount: 6_400 } })
  ).data;
  expect(captured).toMatchObject({ status: "captured", capturedAmount: 6_400 });
  const after = (await getWallet({ ...options, path: { id: wallet.id } })).data;
  expect(after).toMatchObject({ balance: 13_600, availableBalance: 13_600 });
});

test("a refusal reaches the generated client as the problem body, typed", async () => {
  const client = createClient(
    createConfig({ baseUrl: server.baseUrl, headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } }),
  );
  const result = await createWallet({ client, body: { name: "Nobody's" } });
  expect(result.response?.status).toBe(400);
  expect(result.error?.code).toBe("invalid_wallet_owner");
});
