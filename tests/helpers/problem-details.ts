/** Assertions about RFC 9457 problem bodies, the shape of every error the API answers. */
import { expect } from "bun:test";
import type { components } from "../sdk/schema";

export type ProblemBody = components["schemas"]["Problem"];

const PROBLEM_KEYS = new Set(["type", "title", "status", "detail", "code", "requestId", "errors"]);

/**
 * Asserts `body` is a problem body with `status` (and `code`, when given), shaped
 * `{ type, title, status, detail, code, requestId, errors? }`, with a detail to read and the request id
 * of `response`'s X-Request-Id header. `where` labels the failures.
 */
function expectProblemBody(
  body: unknown,
  response: Response,
  status: number,
  code: string | undefined,
  where: string,
): ProblemBody {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new Error(`a problem body must be a JSON object, got ${where}`);
  }
  for (const key of Object.keys(body)) expect(PROBLEM_KEYS.has(key), `unexpected key ${key}`).toBe(true);
  const problem = body as ProblemBody;
  expect(typeof problem.type).toBe("string");
  expect(problem.type.length).toBeGreaterThan(0);
  expect(typeof problem.title).toBe("string");
  expect(problem.title.length).toBeGreaterThan(0);
  expect(problem.status).toBe(status);
  expect(typeof problem.detail).toBe("string");
  expect(problem.detail.length, where).toBeGreaterThan(0);
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

/** Asserts the status line and the `application/problem+json` content type of a problem answer. */
function expectProblemResponse(response: Response, status: number, where: string): void {
  expect(response.status, where).toBe(status);
  expect(response.headers.get("content-type") ?? "", where).toContain("application/problem+json");
}

/**
 * Asserts `response` (a plain fetch answer) is an `application/problem+json` answer with `status`
 * (and `code`, when given), a well-formed problem body carrying the request id of its header.
 */
export async function expectProblem(response: Response, status: number, code?: string): Promise<ProblemBody> {
  const text = await response.text();
  const where = `${response.status} ${text.slice(0, 300)}`;
  expectProblemResponse(response, status, where);
  return expectProblemBody(JSON.parse(text), response, status, code, where);
}

/** What an SDK (openapi-fetch) call answers: a parsed error body on failure, and the response. */
export interface SdkResult {
  error?: ProblemBody;
  response: Response;
}

/** The same as {@link expectProblem}, for an SDK result (whose body the SDK has already read). */
export function expectSdkProblem(result: SdkResult, status: number, code: string): ProblemBody {
  const where = `${result.response.status} ${JSON.stringify(result.error)}`;
  expectProblemResponse(result.response, status, where);
  if (result.error === undefined) throw new Error(`expected a problem body, got ${where}`);
  return expectProblemBody(result.error, result.response, status, code, where);
}

/**
 * The answers to GETs of `ids`, one each in order: the resource of `expected` with that id, or 404
 * `notFoundCode` when none has it.
 */
export function expectEachFound<Resource extends { id: string }>(
  ids: readonly string[],
  answers: readonly (SdkResult & { data?: Resource })[],
  expected: readonly Resource[],
  notFoundCode: string,
): void {
  expect(answers).toHaveLength(ids.length);
  for (const [index, answer] of answers.entries()) {
    const resource = expected.find((each) => each.id === ids[index]);
    if (resource === undefined) expectSdkProblem(answer, 404, notFoundCode);
    else expect(answer.data).toEqual(resource);
  }
}
