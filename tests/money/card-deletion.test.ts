/**
 * A card with pending holds is not deleted (409 card_has_pending_holds), directly, in bulk or with its
 * cardholder: a hold is a merchant's claim that is settled (captured, voided, expired) before its card
 * goes. So no hold of a deleted card is ever left to capture, and held and availableBalance stay exact.
 */
import { describe, expect, test } from "bun:test";
import {
  addMember,
  authorize,
  createCard,
  createTeam,
  createUser,
  createWallet,
  fundedWalletWithCard,
  getWallet,
  topUp,
} from "../helpers/fixtures.ts";
import { brokenInvariants } from "../helpers/invariants.ts";
import { expectProblem } from "../helpers/problem-details.ts";
import { countOf } from "../helpers/rows.ts";
import { TestClock, useServer } from "../helpers/server.ts";

const HOLD_TTL_SECONDS = 3600;
const clock = new TestClock();
const server = useServer({ AUTH_HOLD_TTL: String(HOLD_TTL_SECONDS) }, { clock });

const deleteCard = (id: string) => server.request(`/v1/cards/${id}`, { method: "DELETE" });
const capture = (authorizationId: string) =>
  server.request(`/v1/authorizations/${authorizationId}/capture`, { method: "POST", json: {} });
const pendingHoldsOf = (cardId: string) =>
  countOf(
    server.db,
    "SELECT count(*) AS count FROM authorizations WHERE card_id = $1 AND status = 'pending'",
    [cardId],
  );

async function expectMoney(walletId: string, balance: number, held: number): Promise<void> {
  const wallet = await getWallet(server.api, walletId);
  expect(wallet.balance).toBe(balance);
  expect(wallet.availableBalance).toBe(balance - held);
  expect(await brokenInvariants(server.db)).toEqual([]);
}

describe("deleting a card with pending holds", () => {
  test("DELETE /v1/cards/{id} is 409 while a hold is pending; the card and its hold stay as they were", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10_000);
    const hold = await authorize(server.api, card.id, 2_500, { capture: false });
    expect(hold.status).toBe("pending");

    await expectProblem(await deleteCard(card.id), 409, "card_has_pending_holds");
    expect((await server.request(`/v1/cards/${card.id}`)).status).toBe(200);
    expect(await pendingHoldsOf(card.id)).toBe(1);
    await expectMoney(wallet.id, 10_000, 2_500);

    // Settled, the hold no longer stands in the way; once deleted, nothing of the card can be captured.
    expect((await server.request(`/v1/authorizations/${hold.id}/void`, { method: "POST" })).status).toBe(200);
    expect((await deleteCard(card.id)).status).toBe(200);
    await expectProblem(await capture(hold.id), 409, "authorization_not_pending");
    await expectMoney(wallet.id, 10_000, 0);
  });

  test("a captured hold does not keep its card: the card is deleted and its spend stays", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10_000);
    const hold = await authorize(server.api, card.id, 4_000, { capture: false });
    expect((await capture(hold.id)).status).toBe(200);
    expect((await deleteCard(card.id)).status).toBe(200);
    await expectMoney(wallet.id, 6_000, 0);
  });

  test("a hold past its expiry is expired by the delete, which then goes ahead", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10_000);
    const hold = await authorize(server.api, card.id, 3_000, { capture: false });
    clock.advance(HOLD_TTL_SECONDS * 1000 + 1);
    const deleted = await deleteCard(card.id);
    expect(deleted.status).toBe(200);
    expect(await pendingHoldsOf(card.id)).toBe(0);
    const expired = await server.request(`/v1/authorizations/${hold.id}`);
    expect(((await expired.json()) as { status: string }).status).toBe("expired");
    await expectProblem(await capture(hold.id), 409, "authorization_not_pending");
    await expectMoney(wallet.id, 10_000, 0);
  });

  test("DELETE /v1/wallets/{id}/cards is 409 while any card has a hold, and deletes none of them", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 10_000);
    const other = await createCard(server.api, { walletId: wallet.id });
    await authorize(server.api, other.id, 1_000, { capture: false });

    await expectProblem(
      await server.request(`/v1/wallets/${wallet.id}/cards`, { method: "DELETE" }),
      409,
      "card_has_pending_holds",
    );
    for (const id of [card.id, other.id]) expect((await server.request(`/v1/cards/${id}`)).status).toBe(200);
    await expectMoney(wallet.id, 10_000, 1_000);
  });

  test("deleting a user who holds a card with a hold on a team wallet is 409, and changes nothing", async () => {
    const team = await createTeam(server.api);
    const user = await createUser(server.api);
    await addMember(server.api, team.id, user.id);
    const wallet = await createWallet(server.api, { teamId: team.id });
    await topUp(server.api, wallet.id, 10_000);
    const card = await createCard(server.api, { walletId: wallet.id, cardholderId: user.id });
    await authorize(server.api, card.id, 2_000, { capture: false });

    await expectProblem(
      await server.request(`/v1/users/${user.id}`, { method: "DELETE" }),
      409,
      "card_has_pending_holds",
    );
    expect((await server.request(`/v1/users/${user.id}`)).status).toBe(200);
    const members = await server.request(`/v1/teams/${team.id}/members`);
    const memberIds = ((await members.json()) as { data: { userId: string }[] }).data.map((m) => m.userId);
    expect(memberIds).toEqual([user.id]);
    expect((await server.request(`/v1/cards/${card.id}`)).status).toBe(200);
    await expectMoney(wallet.id, 10_000, 2_000);
  });

  test("a delete racing new holds on the same card never leaves a pending hold on a deleted card", async () => {
    const { wallet, card } = await fundedWalletWithCard(server.api, 100_000);
    const outcomes = await Promise.all([
      ...Array.from({ length: 8 }, () =>
        server.request(`/v1/cards/${card.id}/authorizations`, {
          method: "POST",
          json: { amount: 100, merchant: { name: "Racer" }, capture: false },
        }),
      ),
      deleteCard(card.id),
    ]);
    const deleteStatus = outcomes.at(-1)?.status;
    expect([200, 409]).toContain(deleteStatus ?? 0);
    const pending = await pendingHoldsOf(card.id);
    if (deleteStatus === 200) expect(pending).toBe(0);
    else expect(pending).toBeGreaterThan(0);
    await expectMoney(wallet.id, 100_000, pending * 100);
  });
});
