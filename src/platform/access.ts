/**
 * What each `/v1` route requires of the key that calls it, declared next to the route (see
 * `describe` in schemas.ts): a scope, and the resources named by its path parameters and body fields
 * that must be within the key's reach. The gate (`apiAccess`) reads these declarations; no service
 * checks scopes or reach by itself.
 */
import type { InternalRoute } from "elysia";
import { type Caller, hasScope, insufficientScope, type Reach, type Scope } from "./auth.ts";

/** A resource kind whose reach one SQL rule decides (see src/modules/access/reach.ts). */
export type ReachKind =
  | "user"
  | "team"
  | "wallet"
  | "card"
  /** A card whose number and CVV the key may reveal: its cardholder's, or its team's. */
  | "heldCard"
  | "transaction"
  | "authorization";

/** A `GET` reads what it names; every other method changes it, which a user's team role may not allow. */
export type ReachLevel = "read" | "write";

export interface RouteAccess {
  scope: Scope;
  /** Path parameters naming a resource that must be in reach. */
  params?: Record<string, ReachKind>;
  /** Body fields naming a resource that must be in reach (when given). */
  body?: Record<string, ReachKind>;
}

/** The detail key the declaration travels under, from the route to the gate; never published. */
export const ACCESS_DETAIL_KEY = "x-access";

/** Decides whether a resource is in a key's reach; answers the resource's 404 when it is not. */
export interface ReachGuard {
  require(reach: Reach, kind: ReachKind, id: string, level: ReachLevel): Promise<void>;
}

/** The declared access of every route, looked up by method and route path once the app is built. */
export class RouteAccessRules {
  private rules = new Map<string, RouteAccess>();

  /** Takes the app's routes once they are all declared; a `/v1` route without a declaration is a bug. */
  load(routes: readonly InternalRoute[]): void {
    for (const route of routes) {
      const detail = route.hooks.detail as Record<string, unknown> | undefined;
      const access = detail?.[ACCESS_DETAIL_KEY] as RouteAccess | undefined;
      if (access !== undefined) this.rules.set(`${route.method} ${route.path}`, access);
      else if (route.path.startsWith("/v1/")) {
        throw new Error(`${route.method} ${route.path} declares no access (scope and reach)`);
      }
    }
  }

  /** The scope check, before anything of the request is read: 403 insufficient_scope names the scope. */
  checkScope(caller: Caller, method: string, route: string): void {
    const access = this.of(method, route);
    if (!hasScope(caller, access.scope)) throw insufficientScope(access.scope);
  }

  /** The reach check, once the parameters and body are valid: every resource they name must be reachable. */
  async checkReach(
    guard: ReachGuard,
    caller: Caller,
    method: string,
    route: string,
    input: { params: unknown; body: unknown },
  ): Promise<void> {
    if (caller.reach.kind === "all") return;
    const access = this.of(method, route);
    const level: ReachLevel = method === "GET" ? "read" : "write";
    const named = [...namedIds(access.params, input.params), ...namedIds(access.body, input.body)];
    for (const [kind, id] of named) await guard.require(caller.reach, kind, id, level);
  }

  private of(method: string, route: string): RouteAccess {
    const access = this.rules.get(`${method} ${route}`);
    if (access === undefined) throw new Error(`${method} ${route} declares no access`);
    return access;
  }
}

/** The (kind, id) pairs a declaration names in `values` (path parameters or a body), skipping absent ones. */
function namedIds(declared: Record<string, ReachKind> | undefined, values: unknown): [ReachKind, string][] {
  if (declared === undefined || typeof values !== "object" || values === null) return [];
  const record = values as Record<string, unknown>;
  return Object.entries(declared).flatMap(([field, kind]): [ReachKind, string][] => {
    const id = record[field];
    return typeof id === "string" ? [[kind, id]] : [];
  });
}
