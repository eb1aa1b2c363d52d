/**
 * Set on globalThis by the installed launcher (launch.ts) before it runs the one-file build:
 * the build then leaves starting to the launcher instead of starting itself.
 */
export const LAUNCHED = Symbol.for('assignable.launched');
