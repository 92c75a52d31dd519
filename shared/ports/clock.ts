/** Time is passed in, never read from the machine inside the domain. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
