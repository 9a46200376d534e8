/** Small builders for the resources most tests need; each asserts the create succeeded. */
import type { paths } from "../sdk/schema";
import type { ApiClient, Schemas } from "./server.ts";
import { uniqueEmail } from "./server.ts";

function created<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.data === undefined) {
    throw new Error(`creating ${what} failed: ${result.response.status} ${JSON.stringify(result.error)}`);
  }
  return result.data;
}

export async function createUser(api: ApiClient, name = "Test User"): Promise<Schemas["User"]> {
  return created(await api.POST("/v1/users", { body: { email: uniqueEmail(), name } }), "user");
}

export async function createTeam(api: ApiClient, name = "Test Team"): Promise<Schemas["Team"]> {
  return created(await api.POST("/v1/teams", { body: { name } }), "team");
}

export async function addMember(api: ApiClient, teamId: string, userId: string, role?: "admin" | "member") {
  return created(
    await api.POST("/v1/teams/{id}/members", { params: { path: { id: teamId } }, body: { userId, role } }),
    "membership",
  );
}

type JsonBody<Path extends keyof paths> = paths[Path] extends {
  post: { requestBody?: { content: { "application/json": infer Body } } };
}
  ? Body
  : never;

export async function createWallet(
  api: ApiClient,
  body: JsonBody<"/v1/wallets">,
): Promise<Schemas["Wallet"]> {
  return created(await api.POST("/v1/wallets", { body }), "wallet");
}

export async function createCard(api: ApiClient, body: JsonBody<"/v1/cards">): Promise<Schemas["Card"]> {
  return created(await api.POST("/v1/cards", { body }), "card");
}

/** The Luhn check digit that completes `partial` (computed here, independently of the service). */
export function luhnCheckDigitFor(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    // Walking from the right, the digit next to the check digit is doubled first.
    let digit = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}

/** A random Luhn-valid card number (a 16-digit Visa by default), so tests never collide on a live number. */
export function uniqueCardNumber(prefix = "4", length = 16): string {
  let body = prefix;
  for (const byte of crypto.getRandomValues(new Uint8Array(Math.max(0, length - 1 - prefix.length)))) {
    body += String(byte % 10);
  }
  return `${body}${luhnCheckDigitFor(body)}`;
}

/** An expiry `years` ahead of now (UTC), as a client sends it: month without padding, four-digit year. */
export function futureExpiry(years = 2): { expiryMonth: string; expiryYear: string } {
  const now = new Date();
  return { expiryMonth: String(now.getUTCMonth() + 1), expiryYear: String(now.getUTCFullYear() + years) };
}
