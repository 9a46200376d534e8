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
