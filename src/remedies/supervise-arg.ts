/**
 * The argument the single executable is started with to act as the supervisor of an external
 * program (runner.ts): it cannot run `-e` code as node does. bin.ts looks for it in
 * process.argv without loading the runner at every start.
 */
export const SUPERVISE_ARG = '--assignable-supervise';
