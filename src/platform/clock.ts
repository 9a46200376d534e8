/** The service's notion of "now". Limit windows, holds and ledger times all read it, so tests can move it. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
