/**
 * When a rule of the kernel's grouping arrived. Quirk rows reach stable trees after their
 * mainline release, at stable patch levels nobody recorded for most rows: a kernel older
 * than the mainline release but in a series that got the back-port is "unknown", never a
 * guess either way.
 */
import type { KernelFacts } from '../model.js';

/** [major, minor] of a mainline release. */
export type Release = readonly [number, number];

export interface Arrival {
  /**
   * The first mainline release that has it; null when it is only known to be in every tree read
   * (5.4.301 to 6.12.19): then 5.5 and later have it, and 5.4.y or older may or may not.
   */
  mainline: Release | null;
  /** Set instead of `mainline` for rows merged after this release, the release itself not pinned. */
  after?: Release;
  /** Older stable series known to carry a back-port, the patch level not pinned. */
  backported?: readonly Release[];
  /** Where the date comes from (a commit, a tree). */
  source: string;
}

/** The kernel every prediction assumes when none is given: the newest tree the rules were read from. */
export const ASSUMED_KERNEL: Release = [6, 12];

export type Presence = 'yes' | 'no' | 'unknown';

const before = (k: Release, r: Release) => k[0] < r[0] || (k[0] === r[0] && k[1] < r[1]);

export function presentIn(a: Arrival, kernel: KernelFacts | undefined): Presence {
  const k: Release = kernel ? [kernel.major, kernel.minor] : ASSUMED_KERNEL;
  if (a.after) return !before(k, [a.after[0], a.after[1] + 1]) || a.backported?.some((s) => s[0] === k[0] && s[1] === k[1]) ? 'unknown' : 'no';
  if (a.mainline === null) return before(k, [5, 5]) ? 'unknown' : 'yes';
  if (!before(k, a.mainline)) return 'yes';
  if (a.backported?.some((s) => s[0] === k[0] && s[1] === k[1])) return 'unknown';
  return 'no';
}

export const releaseText = (r: Release) => `${r[0]}.${r[1]}`;

export function arrivalText(a: Arrival): string {
  const main = a.after ? `mainline after ${releaseText(a.after)}` : a.mainline ? `Linux ${releaseText(a.mainline)}` : 'in 5.4.301 and every later tree read, first release not pinned';
  const bp = a.backported?.length ? `; back-ported to ${a.backported.map(releaseText).join(', ')}.y` : '';
  return `${main}${bp} (${a.source})`;
}
