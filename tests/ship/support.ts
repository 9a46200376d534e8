/**
 * What the ship tests share: running a program (the compiled binary or `bun src/main.ts`) as an
 * operator would, calling the API over plain HTTP, and a TCP proxy a test can cut.
 */
import type { Socket, TCPSocketListener } from "bun";
import pg from "pg";
import { BUN, ROOT, type Running, SYSTEM_PATH, startProcess, stopProcess } from "../helpers/process.ts";
import { createScratchDatabase } from "../helpers/server.ts";
import { randomCardKey } from "../helpers/values.ts";

/** The resident set size of a process, in KiB (VmRSS of /proc/<pid>/status). */
export async function rssKiB(pid: number): Promise<number> {
  const status = await Bun.file(`/proc/${pid}/status`).text();
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (match?.[1] === undefined) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** True when a new TCP connection to the port is refused (nothing accepts it). */
export async function connectionRefused(port: number): Promise<boolean> {
  try {
    const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
    socket.end();
    return false;
  } catch {
    return true;
  }
}

export interface Reply {
  status: number;
  headers: Headers;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: Record<string, unknown>;
  text: string;
  /** From sending the request to the end of the body. */
  ms: number;
}

/** A plain HTTP call with the API key; never throws on a status, only on a transport failure. */
export async function call(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    // No answer at all within this long is a hang, reported as a transport failure.
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      parsed = value as Record<string, unknown>;
    }
  } catch {
    parsed = {};
  }
  return {
    status: response.status,
    headers: response.headers,
    body: parsed,
    text,
    ms: performance.now() - started,
  };
}

/** Like call, but throws unless the status is `expected`; gives back the body. */
export async function expectCall(
  expected: number,
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const reply = await call(baseUrl, key, method, path, body);
  if (reply.status !== expected) {
    throw new Error(
      `${method} ${path}: expected ${expected}, got ${reply.status} ${reply.text.slice(0, 300)}`,
    );
  }
  return reply.body;
}

export const idOf = (body: Record<string, unknown>): string => {
  const id = body.id;
  if (typeof id !== "string") throw new Error(`no id in ${JSON.stringify(body)}`);
  return id;
};

/** The URL of `databaseUrl` reached through another host port (the proxy's). */
export function throughPort(databaseUrl: string, port: number): string {
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return url.toString();
}

type ProxyMode = "up" | "closed" | "blackhole" | "stalled" | "refusing";

/** The server's message for each SQLSTATE a test makes the proxy answer with. */
const FATAL_MESSAGES: Record<string, string> = {
  "57P01": "terminating connection due to administrator command",
  "57P02": "terminating connection because of crash of another server process",
  "57P03": "the database system is starting up",
};

/** A PostgreSQL ErrorResponse of severity FATAL: the server ends the connection after it. */
export function fatalErrorMessage(sqlState: string): Uint8Array {
  const fields = [
    ["S", "FATAL"],
    ["V", "FATAL"],
    ["C", sqlState],
    ["M", FATAL_MESSAGES[sqlState] ?? "fatal error"],
  ];
  const body = Buffer.from(`${fields.map(([type, value]) => `${type}${value}\0`).join("")}\0`);
  const header = Buffer.alloc(5);
  header.write("E", 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** True when `chunk` ends with a ReadyForQuery message ('Z', length 5, a status byte). */
const endsWithReadyForQuery = (chunk: Uint8Array) => {
  const at = chunk.length - 6;
  return at >= 0 && chunk[at] === 0x5a && Buffer.from(chunk.subarray(at + 1, at + 5)).readInt32BE() === 5;
};

/**
 * What happens to the server's answers on a connection a test singled out:
 * - deaf: they are lost, and the connection stays open;
 * - broken: the next one is replaced by `fatal` (an ErrorResponse), or by nothing, and the
 *   connection closes (it broke mid-request);
 * - brokenAfterReady: the next one ending in ReadyForQuery is delivered with `fatal` in the same
 *   chunk, and the connection closes (the server went away right after answering).
 */
type AnswerFate =
  | { kind: "deaf" }
  | { kind: "broken"; fatal: Uint8Array | undefined }
  | { kind: "brokenAfterReady"; fatal: Uint8Array };

interface Side {
  socket: Socket<Pair> | undefined;
  /** Bytes not written yet: the socket pushed back, or it is not connected yet, or the link is stalled. */
  pending: Uint8Array[];
}

interface Pair {
  client: Side;
  upstream: Side;
  /** Traffic is silently discarded, both ways, for the rest of this connection's life. */
  dropped: boolean;
  /** Set by a trap (see AnswerFate); requests still go through. */
  fate: AnswerFate | undefined;
  closed: boolean;
}

/**
 * A TCP proxy from a local port to `target` that a test can break in these ways:
 * - cut(): every connection is closed and new ones are refused (the database went away);
 * - blackhole(): every byte is silently dropped, on open connections and on new ones, which are
 *   accepted but never answered (a firewall dropping packets); those connections stay dead;
 * - stall(): nothing is forwarded but everything is kept, and restore() delivers it late (a network
 *   partition that heals before TCP gives up);
 * - loseAnswersAfter(pattern): the next connection to send `pattern` keeps delivering what it sends,
 *   but from then on the server's answers on it are lost (a link that fails one way, mid-statement);
 * - breakAnswerTo(pattern, sqlState?) and breakAfterAnswerTo(pattern, sqlState): see AnswerFate;
 * - refuseStartup(sqlState): it plays a server that answers every new connection's startup with a
 *   FATAL error (57P03: starting up or shutting down); open connections are closed.
 * restore() makes it forward again, on the same port.
 */
export class TcpProxy {
  private listener: TCPSocketListener<Pair> | undefined;
  private readonly pairs = new Set<Pair>();
  private mode: ProxyMode = "up";
  /** Bytes that, once a client sends them, give its connection a fate (see AnswerFate). */
  private trap: { pattern: Buffer; fate: AnswerFate } | undefined;
  /** What refuseStartup answers. */
  private startupRefusal: Uint8Array | undefined;
  port = 0;

  constructor(
    private readonly target: { hostname: string; port: number },
    port = 0,
  ) {
    this.port = port;
  }

  start(): void {
    const proxy = this;
    this.listener = Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port: this.port,
      socket: {
        open(client) {
          const pair: Pair = {
            client: { socket: client, pending: [] },
            upstream: { socket: undefined, pending: [] },
            dropped: proxy.mode === "blackhole",
            fate: undefined,
            closed: false,
          };
          client.data = pair;
          proxy.pairs.add(pair);
          if (pair.dropped || proxy.mode === "refusing") return;
          void Bun.connect<Pair>({
            hostname: proxy.target.hostname,
            port: proxy.target.port,
            data: pair,
            socket: {
              open(upstream) {
                pair.upstream.socket = upstream;
                proxy.flush(pair, pair.upstream);
              },
              data(_upstream, chunk) {
                proxy.forward(pair, pair.client, chunk);
              },
              drain() {
                proxy.flush(pair, pair.upstream);
              },
              close() {
                proxy.closePair(pair);
              },
              error() {
                proxy.closePair(pair);
              },
            },
          }).catch(() => proxy.closePair(pair));
        },
        data(client, chunk) {
          if (proxy.mode === "refusing" && proxy.startupRefusal !== undefined) {
            client.write(proxy.startupRefusal);
            proxy.closePair(client.data);
            return;
          }
          if (proxy.trap !== undefined && Buffer.from(chunk).includes(proxy.trap.pattern)) {
            client.data.fate = proxy.trap.fate;
            proxy.trap = undefined;
          }
          proxy.forward(client.data, client.data.upstream, chunk);
        },
        drain(client) {
          proxy.flush(client.data, client.data.client);
        },
        close(client) {
          proxy.closePair(client.data);
        },
        error(client) {
          proxy.closePair(client.data);
        },
      },
    });
    this.port = this.listener.port;
  }

  /** Open client connections (for assertions that the service reconnected). */
  get connections(): number {
    return this.pairs.size;
  }

  /** The database goes away: open connections are closed, new ones refused. */
  cut(): void {
    this.mode = "closed";
    this.listener?.stop(true);
    this.listener = undefined;
    for (const pair of this.pairs) this.closePair(pair);
  }

  /** Packets are dropped: nothing arrives anywhere, nobody is told. */
  blackhole(): void {
    this.mode = "blackhole";
    for (const pair of this.pairs) {
      pair.dropped = true;
      pair.client.pending = [];
      pair.upstream.pending = [];
    }
  }

  /** The link stops delivering; what is sent meanwhile arrives after restore(). */
  stall(): void {
    this.mode = "stalled";
  }

  /**
   * The next client chunk containing `pattern` (e.g. a statement's text) is delivered, and every answer
   * on its connection after that is lost; other connections are untouched.
   */
  loseAnswersAfter(pattern: string): void {
    this.trap = { pattern: Buffer.from(pattern), fate: { kind: "deaf" } };
  }

  /**
   * The next client chunk containing `pattern` is delivered; the server's answer to it is replaced by
   * a FATAL `sqlState` (or by nothing), and the connection closes.
   */
  breakAnswerTo(pattern: string, sqlState?: string): void {
    const fatal = sqlState === undefined ? undefined : fatalErrorMessage(sqlState);
    this.trap = { pattern: Buffer.from(pattern), fate: { kind: "broken", fatal } };
  }

  /**
   * The next client chunk containing `pattern` is delivered and answered; a FATAL `sqlState` follows
   * the answer's ReadyForQuery in the same chunk, and the connection closes.
   */
  breakAfterAnswerTo(pattern: string, sqlState: string): void {
    this.trap = {
      pattern: Buffer.from(pattern),
      fate: { kind: "brokenAfterReady", fatal: fatalErrorMessage(sqlState) },
    };
  }

  /** Open connections close; new ones are answered with a FATAL `sqlState` until restore(). */
  refuseStartup(sqlState: string): void {
    this.mode = "refusing";
    this.startupRefusal = fatalErrorMessage(sqlState);
    for (const pair of this.pairs) this.closePair(pair);
  }

  restore(): void {
    const previous = this.mode;
    this.mode = "up";
    if (previous === "closed") this.start();
    if (previous === "blackhole") {
      // Connections whose packets were dropped never recover (as after a TCP time-out): they reset.
      for (const pair of this.pairs) if (pair.dropped) this.closePair(pair);
    }
    for (const pair of this.pairs) {
      this.flush(pair, pair.upstream);
      this.flush(pair, pair.client);
    }
  }

  stop(): void {
    this.listener?.stop(true);
    this.listener = undefined;
    for (const pair of this.pairs) this.closePair(pair);
  }

  private forward(pair: Pair, to: Side, chunk: Uint8Array): void {
    if (pair.dropped || pair.closed) return;
    const fate = to === pair.client ? pair.fate : undefined;
    if (fate?.kind === "deaf") return;
    if (fate?.kind === "broken") {
      if (fate.fatal !== undefined) pair.client.socket?.write(fate.fatal);
      this.closePair(pair);
      return;
    }
    if (fate?.kind === "brokenAfterReady" && endsWithReadyForQuery(chunk)) {
      pair.client.socket?.write(Buffer.concat([chunk, fate.fatal]));
      this.closePair(pair);
      return;
    }
    to.pending.push(new Uint8Array(chunk));
    this.flush(pair, to);
  }

  private flush(pair: Pair, side: Side): void {
    if (this.mode === "stalled" || pair.dropped || pair.closed) return;
    const socket = side.socket;
    if (socket === undefined) return;
    while (side.pending.length > 0) {
      const chunk = side.pending[0];
      if (chunk === undefined) break;
      const written = socket.write(chunk);
      if (written < chunk.length) {
        side.pending[0] = chunk.subarray(Math.max(0, written));
        return;
      }
      side.pending.shift();
    }
  }

  private closePair(pair: Pair): void {
    if (pair.closed) return;
    pair.closed = true;
    this.pairs.delete(pair);
    pair.client.socket?.end();
    pair.upstream.socket?.end();
  }
}

export interface ServiceBehindProxy {
  service: Running;
  /** Between the service and PostgreSQL: what a test breaks. */
  proxy: TcpProxy;
  /** Straight to the scratch database, for assertions about what is stored. */
  direct: pg.Pool;
}

/**
 * A scratch database on `serverUrl`, the service (`bun src/main.ts`, admin key `adminKey`, rate
 * limiting off, `env` on top) reaching it through a TcpProxy, and a direct pool. What undoes each is
 * pushed onto `cleanups`, to be run in reverse.
 */
export async function startServiceBehindProxy(
  serverUrl: string,
  adminKey: string,
  env: Record<string, string>,
  cleanups: (() => Promise<unknown>)[],
): Promise<ServiceBehindProxy> {
  const scratch = await createScratchDatabase(serverUrl);
  cleanups.push(() => scratch.drop());
  const direct = new pg.Pool({ connectionString: scratch.url, max: 2 });
  // Dropping the scratch database ends its sessions; an idle one of this pool must not throw.
  direct.on("error", () => {});
  cleanups.push(() => direct.end());
  const target = new URL(scratch.url);
  const proxy = new TcpProxy({ hostname: target.hostname, port: Number(target.port || 5432) });
  proxy.start();
  cleanups.push(async () => proxy.stop());
  const service = await startProcess([BUN, "src/main.ts"], {
    cwd: ROOT,
    env: {
      PATH: SYSTEM_PATH,
      LOG_LEVEL: "error",
      RATE_LIMIT_PER_SECOND: "0",
      DATABASE_URL: throughPort(scratch.url, proxy.port),
      ADMIN_API_KEY: adminKey,
      CARD_ENCRYPTION_KEY: randomCardKey(),
      ...env,
    },
    timeoutMs: 60_000,
  });
  cleanups.push(() => stopProcess(service.process, 5_000));
  return { service, proxy, direct };
}
