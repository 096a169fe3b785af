/** The time, replaceable so tests control it. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
