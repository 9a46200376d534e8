/**
 * compose.yaml (Docker Compose and podman-compose) runs the image the Dockerfile builds against its
 * own PostgreSQL: the API reaches the database service by name and waits for its health check, every
 * secret is asked of the environment (none is written in the file), and the database keeps its data
 * on a named volume. Read, not started: no registry here serves the postgres image.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../helpers/process.ts";

interface Service {
  image?: string;
  build?: { context?: string };
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] };
  volumes?: string[];
  ports?: string[];
}

const compose = Bun.YAML.parse(await Bun.file(join(ROOT, "compose.yaml")).text()) as {
  services: Record<string, Service | undefined>;
  volumes?: Record<string, unknown>;
};
const api = compose.services.api ?? {};
const db = compose.services.db ?? {};

describe("compose.yaml", () => {
  test("the API is built from the Dockerfile and reaches PostgreSQL by its service name, once it is healthy", () => {
    expect(api.build?.context).toBe(".");
    expect(db.image).toMatch(/^docker\.io\/library\/postgres:15/);
    const url = new URL((api.environment?.DATABASE_URL ?? "").replace(/\$\{[^}]*\}/g, "secret"));
    expect(url.hostname).toBe("db");
    expect(url.pathname).toBe(`/${db.environment?.POSTGRES_DB}`);
    expect(url.username).toBe(db.environment?.POSTGRES_USER ?? "");
    expect(api.depends_on?.db?.condition).toBe("service_healthy");
    expect(db.healthcheck?.test?.[0]).toBe("CMD");
    expect(api.ports).toEqual(["3000:3000"]);
  });

  test("every secret comes from the environment, and compose refuses to start without it", () => {
    const required = /^\$\{(\w+):\?[^}]+\}$/;
    expect(required.exec(api.environment?.ADMIN_API_KEY ?? "")?.[1]).toBe("ADMIN_API_KEY");
    expect(required.exec(api.environment?.CARD_ENCRYPTION_KEY ?? "")?.[1]).toBe("CARD_ENCRYPTION_KEY");
    expect(required.exec(db.environment?.POSTGRES_PASSWORD ?? "")?.[1]).toBe("POSTGRES_PASSWORD");
    expect(api.environment?.DATABASE_URL).toContain("${POSTGRES_PASSWORD:?");
  });

  test("PostgreSQL's data is on a named volume", () => {
    expect(db.volumes).toEqual(["wallet-pg:/var/lib/postgresql/data"]);
    expect(Object.keys(compose.volumes ?? {})).toEqual(["wallet-pg"]);
  });
});
