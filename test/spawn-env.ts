/**
 * Imported for its effect by the tests that spawn node hundreds of times (the CLI, the conrep
 * simulator, the runner's supervisor): NODE_EXTRA_CA_CERTS, when the environment sets it, makes
 * Node 20 read and parse the CA bundle at every start (about 0.1 s of CPU each, four times a bare
 * `node -e 0`). These processes open no TLS connection, so their environment goes without it;
 * every other variable is passed on as before.
 */
delete process.env.NODE_EXTRA_CA_CERTS;
export {};
