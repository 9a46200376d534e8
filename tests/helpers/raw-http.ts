/**
 * HTTP/1.x spoken over a plain socket, for requests fetch would never send: a missing, empty or odd
 * Host header, a path that is not in normal form, a body that trickles in.
 */
import { connect, type Socket } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The whole answer as it arrived, headers included. */
  text: string;
}

/** Parses the first response in `text` (status line, headers, body as far as it arrived). */
export function parseRawResponse(text: string): RawResponse {
  const [head = "", ...rest] = text.split("\r\n\r\n");
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n"), text };
}

/** Opens a socket to `baseUrl`'s host and port. */
export function openSocket(baseUrl: string): Promise<Socket> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/**
 * Sends `request` exactly as written and reads until the server closes the connection (ask for it
 * with `Connection: close`) or `timeoutMs` passes.
 */
export async function rawRequest(baseUrl: string, request: string, timeoutMs = 5_000): Promise<RawResponse> {
  const socket = await openSocket(baseUrl);
  return new Promise((resolve) => {
    let text = "";
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseRawResponse(text));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
    });
    socket.on("end", finish);
    socket.on("error", finish);
    socket.write(request);
  });
}

/** A request line, headers (Host first when given) and an optional JSON body, HTTP/1.1 with Connection: close. */
export function requestText(
  method: string,
  target: string,
  options: { host?: string; headers?: Record<string, string>; body?: string; version?: string } = {},
): string {
  const lines = [`${method} ${target} ${options.version ?? "HTTP/1.1"}`];
  if (options.host !== undefined) lines.push(`Host: ${options.host}`);
  for (const [name, value] of Object.entries(options.headers ?? {})) lines.push(`${name}: ${value}`);
  if (options.body !== undefined) {
    lines.push("Content-Type: application/json", `Content-Length: ${Buffer.byteLength(options.body)}`);
  }
  lines.push("Connection: close", "", options.body ?? "");
  return lines.join("\r\n");
}
