import { describe, expect, test } from "bun:test";
import { addMember, createCard, createTeam, createUser, createWallet } from "../helpers/fixtures.ts";
import { TestClock, useServer } from "../helpers/server.ts";

const clock = new TestClock(new Date("2031-03-04T05:06:07.000Z"));
const server = useServer({}, { clock });

/**
 * createdAt, updatedAt and deletedAt are the service clock's "now", not the database's: a moved clock
 * moves them, so every time the service writes comes from one source.
 */
describe("bookkeeping times come from the service clock", () => {
  test("a user's create, update and delete carry the clock's time", async () => {
    const user = await createUser(server.api);
    expect(user.createdAt).toBe("2031-03-04T05:06:07.000Z");
    expect(user.updatedAt).toBe(user.createdAt);

    clock.set("2031-05-01T00:00:00.000Z");
    const renamed = await server.api.PATCH("/v1/users/{id}", {
      params: { path: { id: user.id } },
      body: { name: "Renamed" },
    });
    expect(renamed.data?.updatedAt).toBe("2031-05-01T00:00:00.000Z");
    expect(renamed.data?.createdAt).toBe(user.createdAt);

    clock.set("2031-06-02T12:00:00.000Z");
    const deleted = await server.api.DELETE("/v1/users/{id}", { params: { path: { id: user.id } } });
    expect(deleted.data?.deletedAt).toBe("2031-06-02T12:00:00.000Z");
    expect(deleted.data?.updatedAt).toBe("2031-06-02T12:00:00.000Z");
  });

  test("a card's create, update and delete carry the clock's time", async () => {
    clock.set("2031-07-01T08:00:00.000Z");
    const user = await createUser(server.api);
    const wallet = await createWallet(server.api, { userId: user.id });
    const card = await createCard(server.api, { walletId: wallet.id });
    expect(card.createdAt).toBe("2031-07-01T08:00:00.000Z");

    clock.advance(60_000);
    const frozen = await server.api.PATCH("/v1/cards/{id}", {
      params: { path: { id: card.id } },
      body: { status: "frozen" },
    });
    expect(frozen.data?.updatedAt).toBe("2031-07-01T08:01:00.000Z");

    clock.advance(60_000);
    const deleted = await server.api.DELETE("/v1/cards/{id}", { params: { path: { id: card.id } } });
    expect(deleted.data?.deletedAt).toBe("2031-07-01T08:02:00.000Z");
    expect(deleted.data?.updatedAt).toBe("2031-07-01T08:02:00.000Z");
  });

  test("a cascade deletes everything at the one instant of its transaction", async () => {
    clock.set("2031-08-01T00:00:00.000Z");
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    const membership = await addMember(server.api, team.id, user.id);
    const wallet = await createWallet(server.api, { teamId: team.id });
    const card = await createCard(server.api, { walletId: wallet.id });
    expect([team.createdAt, membership.createdAt, wallet.createdAt]).toEqual(
      Array(3).fill("2031-08-01T00:00:00.000Z"),
    );

    clock.set("2031-09-09T09:09:09.009Z");
    const deleted = await server.api.DELETE("/v1/teams/{id}", { params: { path: { id: team.id } } });
    expect(deleted.data?.deletedAt).toBe("2031-09-09T09:09:09.009Z");
    const deletedAt = await server.db.query<{ deleted_at: Date }>(
      `SELECT deleted_at FROM team_members WHERE team_id = $1
       UNION ALL SELECT deleted_at FROM wallets WHERE id = $2
       UNION ALL SELECT deleted_at FROM cards WHERE id = $3`,
      [team.id, wallet.id, card.id],
    );
    expect(deletedAt.rows.map((row) => row.deleted_at.toISOString())).toEqual(
      Array(3).fill("2031-09-09T09:09:09.009Z"),
    );
  });
});
