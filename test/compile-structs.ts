/**
 * Preload (`node --import ./test/compile-structs.ts`): every structure description is
 * compiled at its first use instead of after many (src/firmware/struct.ts), so the oracle
 * suites run in such a process check the compiled readers. See test/decoders-compiled.test.ts.
 */
import { compileStructsAfter } from '../src/firmware/struct.js';

compileStructsAfter(0);
