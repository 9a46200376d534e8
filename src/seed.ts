import type { Services } from "./app.ts";
import { usersRepository } from "./modules/users/repository.ts";
import type { Database } from "./platform/db.ts";

/** The original service's demo data: one team, five users, three wallets, three cards. */
const DEMO_USERS = [
  { email: "alice@demo.example", name: "Alice Tan", role: "admin" },
  { email: "bob@demo.example", name: "Bob Lim", role: "member" },
  { email: "carol@demo.example", name: "Carol Ng", role: "member" },
  { email: "dave@demo.example", name: "Dave Koh", role: "member" },
  { email: "erin@demo.example", name: "Erin Goh", role: null },
] as const;

export interface SeedResult {
  created: boolean;
  teamId?: string;
}

/**
 * Inserts the demo data through the services, so every rule holds for it. Running it again finds
 * the first demo user and changes nothing.
 */
export async function seedDemoData(db: Database, services: Services): Promise<SeedResult> {
  const existing = await usersRepository.list(
    db,
    { email: DEMO_USERS[0].email },
    { kind: "all" },
    { limit: 1, skip: 0, sortBy: "createdAt", direction: "ASC" },
  );
  if (existing.length > 0) return { created: false };

  const team = await services.teams.create({ name: "Demo Team" });
  const users = [];
  for (const demo of DEMO_USERS) {
    const user = await services.users.create({ email: demo.email, name: demo.name });
    if (demo.role !== null) await services.members.add(team.id, { userId: user.id, role: demo.role });
    users.push(user);
  }
  const [alice, bob, , , erin] = users;
  if (alice === undefined || bob === undefined || erin === undefined) throw new Error("demo users missing");

  const teamWallet = await services.wallets.create({
    teamId: team.id,
    name: "Team expenses",
    dailyLimit: 200_000,
    monthlyLimit: 1_000_000,
  });
  const aliceWallet = await services.wallets.create({ userId: alice.id, name: "Alice's wallet" });
  const erinWallet = await services.wallets.create({
    userId: erin.id,
    name: "Erin's wallet",
    timezone: "Asia/Singapore",
  });

  await services.cards.create({
    walletId: teamWallet.id,
    cardholderId: bob.id,
    dailyLimit: 50_000,
    monthlyLimit: 300_000,
  });
  await services.cards.create({ walletId: aliceWallet.id, cardholderId: alice.id });
  await services.cards.create({ walletId: erinWallet.id, cardholderId: erin.id });
  return { created: true, teamId: team.id };
}
