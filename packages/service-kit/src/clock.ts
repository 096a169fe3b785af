/** The time, replaceable so tests control it (the scheduler's ticker uses the same shape). */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
