/** The authorization hook of `bench --hook`: approves every spend at once, on 127.0.0.1. */
export function startHookReceiver(): { url: string; calls(): number; stop(): Promise<void> } {
  let calls = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      calls++;
      return Response.json({ approved: true });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/authorize`,
    calls: () => calls,
    stop: () => server.stop(true),
  };
}
