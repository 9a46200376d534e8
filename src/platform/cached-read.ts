/**
 * A value read from the database and trusted for `ttlMs`: an API key, the authorization hook's
 * settings. Once that time has run out, the next caller starts one new read, and until it answers every
 * caller gets the value read last. So an expiry never makes requests wait for the database (under load,
 * the requests that waited for it fell behind the spend batch they came for), and a change is still
 * seen within `ttlMs` plus one read. Callers with nothing read yet wait for the read, and share it.
 * A read that fails is not remembered: its callers get the error, and the next caller reads again.
 */
export class CachedRead<Value> {
  private last: { value: Value; readAt: number } | undefined;
  private reading: Promise<Value> | undefined;
  /** Moved by forget(), so that a read started before it cannot bring back what was forgotten. */
  private generation = 0;

  constructor(
    private readonly read: () => Promise<Value>,
    private readonly ttlMs: number,
  ) {}

  get(): Promise<Value> {
    const now = performance.now();
    const last = this.last;
    if (last !== undefined && now - last.readAt < this.ttlMs) return Promise.resolve(last.value);
    const reading = this.reading ?? this.readAgain(now);
    return last === undefined ? reading : Promise.resolve(last.value);
  }

  /** Reads afresh at the next call: for a change this instance made itself. */
  forget(): void {
    this.generation++;
    this.last = undefined;
    this.reading = undefined;
  }

  private readAgain(startedAt: number): Promise<Value> {
    const generation = this.generation;
    const current = () => generation === this.generation;
    const reading = this.read().then(
      (value) => {
        if (current()) this.last = { value, readAt: startedAt };
        return value;
      },
      (error: unknown) => {
        if (current()) this.last = undefined;
        throw error;
      },
    );
    this.reading = reading;
    // Handled here too: callers given the last value do not wait for this read, nor see its failure.
    const settled = () => {
      if (this.reading === reading) this.reading = undefined;
    };
    reading.then(settled, settled);
    return reading;
  }
}
