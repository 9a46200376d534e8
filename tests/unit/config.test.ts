import { describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, ConfigError, loadConfig } from "../../src/platform/config.ts";
import { ROOT, run } from "../helpers/process.ts";
import { randomCardKey } from "../helpers/values.ts";

const VALID_ADMIN_KEY = "admin-key-for-config-tests-0001";
const VALID_CARD_KEY = randomCardKey();

/** The problems loadConfig reports for `env`; fails the test when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  let accepted: Config | undefined;
  try {
    accepted = loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)} as ${JSON.stringify(accepted)}`);
}

describe("loadConfig defaults", () => {
  test("an empty environment gives the contract's defaults", () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.HOST).toBe("0.0.0.0");
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.DATA_DIR).toBe("./data");
    expect(config.DB_POOL_MAX).toBe(20);
    expect(config.ADMIN_API_KEY).toBeUndefined();
    expect(config.CARD_ENCRYPTION_KEY).toBeUndefined();
    expect(config.DEFAULT_CURRENCY).toBe("SGD");
    expect(config.AUTH_HOLD_TTL).toBe(604800);
    expect(config.LOG_LEVEL).toBe("info");
    expect(config.LOG_FORMAT).toBe("json");
    expect(config.RATE_LIMIT_PER_SECOND).toBe(100);
    expect(config.RATE_LIMIT_BURST).toBe(200);
    expect(config.DB_QUERY_TIMEOUT).toBe(5000);
    expect(config.SHUTDOWN_TIMEOUT).toBe(15000);
    expect(config.DATABASE_READ_URL).toBeUndefined();
    expect(config.DATABASE_READ_MAX_LAG_MS).toBe(1000);
  });

  test("empty and blank values count as unset", () => {
    const config = loadConfig({ PORT: "", HOST: "   ", LOG_LEVEL: "" });
    expect(config.PORT).toBe(3000);
    expect(config.HOST).toBe("0.0.0.0");
    expect(config.LOG_LEVEL).toBe("info");
  });

  test("set values are converted from strings", () => {
    const config = loadConfig({
      PORT: "8080",
      HOST: "127.0.0.1",
      DATA_DIR: "memory://",
      DB_POOL_MAX: "5",
      DEFAULT_CURRENCY: "EUR",
      AUTH_HOLD_TTL: "60",
      LOG_LEVEL: "debug",
      LOG_FORMAT: "pretty",
      RATE_LIMIT_PER_SECOND: "0.5",
      RATE_LIMIT_BURST: "0",
      DB_QUERY_TIMEOUT: "100",
      SHUTDOWN_TIMEOUT: "0",
    });
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: "127.0.0.1",
      DATA_DIR: "memory://",
      DB_POOL_MAX: 5,
      DEFAULT_CURRENCY: "EUR",
      AUTH_HOLD_TTL: 60,
      LOG_LEVEL: "debug",
      LOG_FORMAT: "pretty",
      RATE_LIMIT_PER_SECOND: 0.5,
      RATE_LIMIT_BURST: 0,
      DB_QUERY_TIMEOUT: 100,
      SHUTDOWN_TIMEOUT: 0,
    });
  });

  test("DATABASE_URL with both secrets is accepted", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://app:pw@db.internal:5432/wallet",
      ADMIN_API_KEY: VALID_ADMIN_KEY,
      CARD_ENCRYPTION_KEY: VALID_CARD_KEY,
    });
    expect(config.DATABASE_URL).toBe("postgresql://app:pw@db.internal:5432/wallet");
    expect(config.ADMIN_API_KEY).toBe(VALID_ADMIN_KEY);
    expect(config.CARD_ENCRYPTION_KEY).toBe(VALID_CARD_KEY);
  });

  test("DATABASE_READ_URL and DATABASE_READ_MAX_LAG_MS are accepted with DATABASE_URL", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://app:pw@primary.internal:5432/wallet",
      DATABASE_READ_URL: "postgresql://app:pw@replica.internal:5432/wallet",
      DATABASE_READ_MAX_LAG_MS: "250",
      ADMIN_API_KEY: VALID_ADMIN_KEY,
      CARD_ENCRYPTION_KEY: VALID_CARD_KEY,
    });
    expect(config.DATABASE_READ_URL).toBe("postgresql://app:pw@replica.internal:5432/wallet");
    expect(config.DATABASE_READ_MAX_LAG_MS).toBe(250);
  });

  test("DATABASE_READ_URL in embedded mode is refused: PGlite has no replicas", () => {
    const problems = problemsOf({ DATA_DIR: "memory://", DATABASE_READ_URL: "postgres://replica/wallet" });
    expect(problems).toEqual([
      "DATABASE_READ_URL: set only together with DATABASE_URL (embedded mode has no replicas)",
    ]);
  });
});

describe("loadConfig refuses bad values with one readable line naming the variable", () => {
  const badValues: [string, string][] = [
    ["PORT", "abc"],
    ["PORT", "8080abc"],
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["PORT", "3.5"],
    ["PORT", "1e3"],
    ["PORT", "true"],
    ["DB_POOL_MAX", "0"],
    ["DB_POOL_MAX", "2.5"],
    ["DB_POOL_MAX", "many"],
    ["DEFAULT_CURRENCY", "sgd"],
    ["DEFAULT_CURRENCY", "SGDX"],
    ["AUTH_HOLD_TTL", "0"],
    ["AUTH_HOLD_TTL", "1.5"],
    ["AUTH_HOLD_TTL", "a week"],
    ["LOG_LEVEL", "verbose"],
    ["LOG_FORMAT", "xml"],
    ["RATE_LIMIT_PER_SECOND", "-1"],
    ["RATE_LIMIT_PER_SECOND", "fast"],
    ["RATE_LIMIT_BURST", "-1"],
    ["RATE_LIMIT_BURST", "1.5"],
    ["DB_QUERY_TIMEOUT", "abc"],
    ["DB_QUERY_TIMEOUT", "50"],
    ["SHUTDOWN_TIMEOUT", "-5"],
    ["DATABASE_READ_MAX_LAG_MS", "-1"],
    ["DATABASE_READ_MAX_LAG_MS", "1.5"],
    ["DATABASE_URL", "mysql://root@localhost/wallet"],
    ["ADMIN_API_KEY", "short"],
    ["CARD_ENCRYPTION_KEY", "not-base64"],
  ];

  for (const [name, value] of badValues) {
    test(`${name}=${JSON.stringify(value)}`, () => {
      // DATABASE_URL is tried with both secrets, so that its own line is the only one.
      const env: Record<string, string> =
        name === "DATABASE_URL"
          ? { [name]: value, ADMIN_API_KEY: VALID_ADMIN_KEY, CARD_ENCRYPTION_KEY: VALID_CARD_KEY }
          : { [name]: value, DATA_DIR: "memory://" };
      const problems = problemsOf(env);
      expect(problems).toHaveLength(1);
      const [line = ""] = problems;
      expect(line.startsWith(`${name}:`)).toBe(true);
      expect(line).not.toContain("\n");
      expect(line.length).toBeLessThan(200);
      expect(line.length).toBeGreaterThan(name.length + 5);
    });
  }

  test("several bad values give one line each, all in the error message", () => {
    const problems = problemsOf({ PORT: "abc", LOG_LEVEL: "loud", DEFAULT_CURRENCY: "usd" });
    expect(problems).toHaveLength(3);
    expect(problems.map((line) => line.split(":")[0]).sort()).toEqual([
      "DEFAULT_CURRENCY",
      "LOG_LEVEL",
      "PORT",
    ]);
    try {
      loadConfig({ PORT: "abc", LOG_LEVEL: "loud" });
      throw new Error("loadConfig accepted a bad PORT");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(String(error)).toContain("PORT");
      expect(String(error)).toContain("LOG_LEVEL");
    }
  });

  test("the line for a bad non-secret value shows what was given", () => {
    const [line = ""] = problemsOf({ LOG_FORMAT: "xml" });
    expect(line).toContain("xml");
  });
});

describe("secrets are never echoed", () => {
  test("a bad ADMIN_API_KEY is named but its value is not shown", () => {
    const secret = "tooshort-s3cr3t";
    const problems = problemsOf({ ADMIN_API_KEY: secret });
    expect(problems[0]?.startsWith("ADMIN_API_KEY:")).toBe(true);
    expect(problems.join("\n")).not.toContain(secret);
  });

  test("an ADMIN_API_KEY with a space is named but its value is not shown", () => {
    const secret = "has a space but long enough 123";
    const problems = problemsOf({ ADMIN_API_KEY: secret });
    expect(problems[0]?.startsWith("ADMIN_API_KEY:")).toBe(true);
    expect(problems.join("\n")).not.toContain("has a space");
  });

  test("a bad CARD_ENCRYPTION_KEY is named but its value is not shown", () => {
    const secret = "c2VjcmV0LWNhcmQta2V5LXRoYXQtaXMtdG9vLXNob3J0";
    const problems = problemsOf({ CARD_ENCRYPTION_KEY: secret });
    expect(problems[0]?.startsWith("CARD_ENCRYPTION_KEY:")).toBe(true);
    expect(problems.join("\n")).not.toContain(secret);
  });

  test("a bad DATABASE_URL never shows its password", () => {
    const problems = problemsOf({ DATABASE_URL: "mysql://app:hunter2-password@db/wallet" });
    expect(problems[0]?.startsWith("DATABASE_URL:")).toBe(true);
    const text = problems.join("\n");
    expect(text).not.toContain("hunter2-password");
    expect(text).not.toContain("app:");
  });

  test("the ConfigError message does not contain secret values either", () => {
    try {
      loadConfig({ ADMIN_API_KEY: "tiny-secret", DATABASE_URL: "http://u:pw-42@x/y" });
      throw new Error("loadConfig accepted bad secrets");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect(String(error)).not.toContain("tiny-secret");
      expect(String(error)).not.toContain("pw-42");
    }
  });
});

describe("DATABASE_URL requires explicit secrets", () => {
  const url = "postgres://app:pw@db:5432/wallet";

  test("without ADMIN_API_KEY and CARD_ENCRYPTION_KEY it is refused, naming both", () => {
    const problems = problemsOf({ DATABASE_URL: url });
    expect(problems).toHaveLength(2);
    expect(problems.some((line) => line.startsWith("ADMIN_API_KEY:"))).toBe(true);
    expect(problems.some((line) => line.startsWith("CARD_ENCRYPTION_KEY:"))).toBe(true);
    expect(problems.join("\n")).not.toContain("pw@");
  });

  test("without ADMIN_API_KEY it is refused", () => {
    const problems = problemsOf({ DATABASE_URL: url, CARD_ENCRYPTION_KEY: VALID_CARD_KEY });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.startsWith("ADMIN_API_KEY:")).toBe(true);
  });

  test("without CARD_ENCRYPTION_KEY it is refused", () => {
    const problems = problemsOf({ DATABASE_URL: url, ADMIN_API_KEY: VALID_ADMIN_KEY });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.startsWith("CARD_ENCRYPTION_KEY:")).toBe(true);
  });
});

describe("start-up with a bad environment", () => {
  const bun = join(ROOT, "node_modules/.bin/bun");

  /** Runs `bun src/main.ts` with `overrides` and no DATABASE_URL; kills it if it starts serving after all. */
  async function start(overrides: Record<string, string>) {
    const dataDir = await mkdtemp(join(tmpdir(), "wallet-config-test-"));
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && key !== "DATABASE_URL") env[key] = value;
    }
    try {
      return await run([bun, "src/main.ts"], {
        cwd: ROOT,
        env: { ...env, DATA_DIR: dataDir, HOST: "127.0.0.1", LOG_LEVEL: "silent", ...overrides },
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  test("PORT=abc exits with code 1 and a line naming PORT on stderr", async () => {
    const { exitCode, stderr } = await start({ PORT: "abc" });
    expect(exitCode).toBe(1);
    const lines = stderr.split("\n").filter((line) => line.includes("PORT"));
    expect(lines).toHaveLength(1);
  }, 60_000);

  test("two bad values give two lines, and a bad secret is not printed", async () => {
    const { exitCode, stdout, stderr } = await start({ LOG_FORMAT: "xml", ADMIN_API_KEY: "leaky-secret" });
    expect(exitCode).toBe(1);
    expect(stderr.split("\n").filter((line) => line.includes("LOG_FORMAT"))).toHaveLength(1);
    expect(stderr.split("\n").filter((line) => line.includes("ADMIN_API_KEY"))).toHaveLength(1);
    expect(stderr).not.toContain("leaky-secret");
    expect(stdout).not.toContain("leaky-secret");
  }, 60_000);
});
