/**
 * The reach of a key (contract §6), one SQL rule per resource kind. The same rule decides a read or
 * change by id (the gate's check before the route runs, see RouteAccessRules) and filters every list
 * in SQL, so that pages hold only what the key reaches and paging stays right.
 *
 * - A team-bound key reaches its team, the team's memberships and members, the team's wallets, their
 *   cards, transactions and authorizations; it may read the team's members but change no user.
 * - A user-bound key reaches the user, the teams the user belongs to and the wallets the user owns.
 *   On a team where the user is `admin`, it reaches the team's wallets and cards (to change them too);
 *   where the user is `member`, it reads the team, its members and its wallets and the cards the user
 *   holds (with their transactions and authorizations), and changes nothing.
 * - A card's number and CVV are revealed to a user-bound key only when the user holds the card (or
 *   owns the wallet of a card nobody holds).
 *
 * Out of reach is 404, exactly as if the resource did not exist.
 */
import type { ReachGuard, ReachKind, ReachLevel } from "../../platform/access.ts";
import type { Reach } from "../../platform/auth.ts";
import type { Queryable } from "../../platform/db.ts";
import { authorizationNotFound } from "../authorizations/errors.ts";
import { cardNotFound } from "../cards/errors.ts";
import { transactionNotFound } from "../ledger/errors.ts";
import { teamNotFound } from "../teams/errors.ts";
import { userNotFound } from "../users/errors.ts";
import { walletNotFound } from "../wallets/errors.ts";

/** The live teams of user `$p`; only those where the user is admin when `admin`. */
const teamsOf = (p: string, admin: boolean) =>
  `(SELECT m.team_id FROM team_members m WHERE m.user_id = ${p} AND m.deleted_at IS NULL${admin ? " AND m.role = 'admin'" : ""})`;

/** The wallets a user-bound key changes: the user's own, and those of the teams the user is admin of. */
const walletsRunBy = (p: string) =>
  `(SELECT w.id FROM wallets w WHERE w.user_id = ${p} OR w.team_id IN ${teamsOf(p, true)})`;

const teamWallets = (p: string) => `(SELECT w.id FROM wallets w WHERE w.team_id = ${p})`;

/** Cards (rows of `cards` as `t`) a user-bound key reaches at `level`. */
function userCards(t: string, p: string, level: ReachLevel): string {
  const run = `${t}.wallet_id IN ${walletsRunBy(p)}`;
  if (level === "write") return run;
  const held = `${t}.cardholder_id = ${p} AND ${t}.wallet_id IN (SELECT w.id FROM wallets w WHERE w.team_id IN ${teamsOf(p, false)})`;
  return `(${run} OR (${held}))`;
}

/** The condition on a row `t` of `kind`'s table that it is in a team-bound key's reach (team `$p`). */
function teamRule(kind: ListedKind, t: string, p: string, level: ReachLevel): string {
  switch (kind) {
    case "user":
      return level === "read"
        ? `${t}.id IN (SELECT m.user_id FROM team_members m WHERE m.team_id = ${p} AND m.deleted_at IS NULL)`
        : "FALSE";
    case "team":
      return `${t}.id = ${p}`;
    case "membership":
      return `${t}.team_id = ${p}`;
    case "wallet":
      return `${t}.team_id = ${p}`;
    case "card":
    case "heldCard":
    case "transaction":
    case "authorization":
      return `${t}.wallet_id IN ${teamWallets(p)}`;
  }
}

/** The condition on a row `t` of `kind`'s table that it is in a user-bound key's reach (user `$p`). */
function userRule(kind: ListedKind, t: string, p: string, level: ReachLevel): string {
  switch (kind) {
    case "user":
      return `${t}.id = ${p}`;
    case "team":
      return `${t}.id IN ${teamsOf(p, level === "write")}`;
    case "membership":
      return `${t}.team_id IN ${teamsOf(p, level === "write")}`;
    case "wallet":
      return level === "write"
        ? `${t}.id IN ${walletsRunBy(p)}`
        : `(${t}.user_id = ${p} OR ${t}.team_id IN ${teamsOf(p, false)})`;
    case "card":
      return userCards(t, p, level);
    case "heldCard":
      return `(${t}.cardholder_id = ${p} OR (${t}.cardholder_id IS NULL AND ${t}.wallet_id IN (SELECT w.id FROM wallets w WHERE w.user_id = ${p}))) AND ${userCards(t, p, "read")}`;
    case "transaction":
      return level === "write"
        ? `${t}.wallet_id IN ${walletsRunBy(p)}`
        : `(${t}.wallet_id IN ${walletsRunBy(p)} OR ${t}.card_id IN (SELECT c.id FROM cards c WHERE ${userCards("c", p, "read")}))`;
    case "authorization":
      return `${t}.card_id IN (SELECT c.id FROM cards c WHERE ${userCards("c", p, level)})`;
  }
}

/**
 * Whether `reach` reaches events: they carry resources of every team and user (contract §7), so only
 * a key bound to nothing does; to a key bound to a team or a user, no event exists.
 */
export const reachesEvents = (reach: Reach): boolean => reach.kind === "all";

/** A kind of listed row: the resources of the gate, and memberships (listed, never named by id alone). */
export type ListedKind = ReachKind | "membership";

/**
 * The SQL condition that keeps a list's rows (of `kind`'s table, written `table` in the query) within
 * `reach`, its one parameter appended to `values`; undefined for a key that reaches everything.
 */
export function reachCondition(
  reach: Reach,
  kind: ListedKind,
  table: string,
  values: unknown[],
): string | undefined {
  if (reach.kind === "all") return undefined;
  values.push(reach.kind === "team" ? reach.teamId : reach.userId);
  const p = `$${values.length}`;
  return reach.kind === "team" ? teamRule(kind, table, p, "read") : userRule(kind, table, p, "read");
}

/** Each kind's table, whether its rows are soft-deleted, and its 404. */
const TABLES: Record<ReachKind, { table: string; live: boolean; notFound: (id: string) => Error }> = {
  user: { table: "users", live: true, notFound: userNotFound },
  team: { table: "teams", live: true, notFound: teamNotFound },
  wallet: { table: "wallets", live: true, notFound: walletNotFound },
  card: { table: "cards", live: true, notFound: cardNotFound },
  heldCard: { table: "cards", live: true, notFound: cardNotFound },
  transaction: { table: "transactions", live: false, notFound: transactionNotFound },
  authorization: { table: "authorizations", live: false, notFound: authorizationNotFound },
};

/** The gate's reach check: one indexed query for a bound key, answering the resource's 404 when out of reach. */
export class SqlReachGuard implements ReachGuard {
  constructor(private readonly db: Queryable) {}

  async require(reach: Reach, kind: ReachKind, id: string, level: ReachLevel): Promise<void> {
    if (reach.kind === "all") return;
    const { table, live, notFound } = TABLES[kind];
    const rule =
      reach.kind === "team" ? teamRule(kind, table, "$2", level) : userRule(kind, table, "$2", level);
    const { rows } = await this.db.query(
      `SELECT 1 FROM ${table} WHERE ${table}.id = $1${live ? ` AND ${table}.deleted_at IS NULL` : ""} AND ${rule}`,
      // A rule that refuses outright ("FALSE") has no use for the binding.
      rule.includes("$2") ? [id, reach.kind === "team" ? reach.teamId : reach.userId] : [id],
    );
    if (rows.length === 0) throw notFound(id);
  }
}
