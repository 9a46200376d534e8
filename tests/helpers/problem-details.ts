/** Assertions about RFC 9457 problem bodies, the shape of every error the API answers. */
import { expect } from "bun:test";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  errors?: { path: string; message: string }[];
}

const PROBLEM_KEYS = new Set(["type", "title", "status", "detail", "code", "requestId", "errors"]);

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Asserts `response` is an `application/problem+json` answer with `status` (and `code`, when given),
 * shaped `{ type, title, status, detail, code, requestId, errors? }` with the request id of its header.
 */
export async function expectProblem(response: Response, status: number, code?: string): Promise<ProblemBody> {
  const text = await response.text();
  const where = `${response.status} ${text.slice(0, 300)}`;
  expect(response.status, where).toBe(status);
  expect(response.headers.get("content-type") ?? "", where).toContain("application/problem+json");
  const body: unknown = JSON.parse(text);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new Error(`a problem body must be a JSON object, got ${text.slice(0, 200)}`);
  }
  for (const key of Object.keys(body)) expect(PROBLEM_KEYS.has(key), `unexpected key ${key}`).toBe(true);
  const problem = body as ProblemBody;
  expect(typeof problem.type).toBe("string");
  expect(problem.type.length).toBeGreaterThan(0);
  expect(typeof problem.title).toBe("string");
  expect(problem.title.length).toBeGreaterThan(0);
  expect(problem.status).toBe(status);
  expect(typeof problem.detail).toBe("string");
  expect(problem.code).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
  if (code !== undefined) expect(problem.code, where).toBe(code);
  expect(typeof problem.requestId).toBe("string");
  expect(problem.requestId).toBe(response.headers.get("x-request-id") ?? "");
  if (problem.errors !== undefined) {
    expect(Array.isArray(problem.errors)).toBe(true);
    for (const error of problem.errors) {
      expect(Object.keys(error).sort()).toEqual(["message", "path"]);
      expect(typeof error.path).toBe("string");
      expect(typeof error.message).toBe("string");
    }
  }
  return problem;
}
